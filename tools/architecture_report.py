"""Print the structure numbers issue 27 holds the package to.

Usage::

    python tools/architecture_report.py [--root DIR] [--fail-over KEY=N ...] [NAME ...]

For the package ``src/cyneuron`` it prints

* the import cycles among its modules (imports inside functions count;
  imports under ``if TYPE_CHECKING:`` do not), as strongly connected
  components of the import graph;
* the imports of the package's own modules made inside functions;
* the reaches ``obj._name`` into another object's private attribute, per
  module (``self``, ``cls`` and module aliases are not other objects);
* for each NAME (default: every activation, loss and optimizer in the
  registry), the source files under ``src/`` and ``csrc/`` whose code (not
  comments, not docstrings) names it;
* the largest modules by lines.

``--fail-over cycles=0 --fail-over private=5`` exits 1 when a number is over
its bound (keys: cycles, private, function_imports, files_per_name). The CI
lint cell runs it. Heuristics read by a program: open the code before you
trust or dismiss a number.
"""
from __future__ import annotations

import argparse
import ast
import io
import os
import re
import sys
import tokenize
from collections import defaultdict

PACKAGE = "cyneuron"


def modules(src):
    """{dotted name: path} of the package's Python modules."""
    out = {}
    for folder, _, files in os.walk(os.path.join(src, PACKAGE)):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                name = os.path.relpath(path, src)[:-3].replace(os.sep, ".")
                out[name.removesuffix(".__init__")] = path
    return out


def _absolute(current, is_package, level, name):
    if level == 0:
        return name
    parts = current.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - level + 1]
    return ".".join(base + ([name] if name else []))


class _Reader(ast.NodeVisitor):
    """Imports (with whether they sit in a function) and private reaches of one module."""

    def __init__(self, name, is_package, known, compiled=frozenset()):
        self.name, self.is_package, self.known = name, is_package, known
        self.compiled = compiled
        self.imports = []        # (module, in_function, line)
        self.aliases = set()     # names bound to modules
        self.private = []        # (line, text)
        self.depth = 0

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _add(self, module, line):
        if module in self.known or module.startswith(PACKAGE + "."):
            self.imports.append((module, self.depth > 0, line))

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, node.lineno)
            self.aliases.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node):
        base = _absolute(self.name, self.is_package, node.level, node.module)
        for alias in node.names:
            full = f"{base}.{alias.name}" if base else alias.name
            if full in self.known:          # `from . import io`: a module
                self._add(full, node.lineno)
                self.aliases.add(alias.asname or alias.name)
            elif full in self.compiled:     # `from . import _core`: an extension, no edge
                self.aliases.add(alias.asname or alias.name)
            else:
                self._add(base, node.lineno)

    def visit_Attribute(self, node):
        attr = node.attr
        if attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__")):
            owner = node.value
            if not (isinstance(owner, ast.Name) and (owner.id in ("self", "cls")
                                                    or owner.id in self.aliases)):
                self.private.append((node.lineno, ast.unparse(node)))
        self.generic_visit(node)


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _python_code(text):
    """`text` without comments and docstrings (tokenize; a file it cannot read
    is stripped with regular expressions instead)."""
    try:
        out, previous = [], tokenize.INDENT
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                continue
            if tok.type == tokenize.STRING and previous in (tokenize.INDENT, tokenize.NEWLINE,
                                                            tokenize.DEDENT, tokenize.NL):
                previous = tok.type
                continue                 # a string standing alone: a docstring
            if tok.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
                previous = tok.type
            elif tok.type != tokenize.NL:
                previous = tok.type
            out.append(tok.string)
        return " ".join(out)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        text = re.sub(r'(?s)("""|\'\'\').*?\1', " ", text)
        return re.sub(r"#[^\n]*", " ", text)


def _c_code(text):
    text = re.sub(r"(?s)/\*.*?\*/", " ", text)
    return re.sub(r"//[^\n]*", " ", text)


def source_files(root):
    """The source files under src/ and csrc/ (git's list where there is one, so
    that build products such as the generated _core.c are left out)."""
    import subprocess
    suffixes = (".py", ".pyx", ".pxd", ".pxi", ".c", ".h")
    try:
        listed = subprocess.run(["git", "-C", root, "ls-files", "src", "csrc"], check=True,
                                capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [os.path.relpath(os.path.join(folder, f), root)
                  for top in ("src", "csrc")
                  for folder, _, files in os.walk(os.path.join(root, top)) for f in files]
    return sorted(p for p in listed if p.endswith(suffixes))


def files_naming(root, names):
    """{name: [files under src/ and csrc/ whose code names it]}."""
    code = {}
    for path in source_files(root):
        strip = _c_code if path.endswith((".c", ".h")) else _python_code
        with open(os.path.join(root, path), encoding="utf-8") as fh:
            # the core's enum constants (ACT_LEAKY_RELU, OPT_ADAM, LOSS_MSE) name them too
            code[path] = re.sub(r"(?<![a-z0-9])(cyn_)?(act|opt|loss)_", " ", strip(fh.read()).lower())
    out = {}
    for name in names:
        pattern = re.compile(rf"(?<![a-z0-9_]){re.escape(name.lower())}(?![a-z0-9_])")
        out[name] = sorted(p for p, text in code.items() if pattern.search(text))
    return out


def registry_names(src):
    """The activation, loss and optimizer names of the registry (without importing it)."""
    sys.path.insert(0, src)
    try:
        from cyneuron import _registry as registry
    except ImportError:
        return ["softplus", "silu", "leaky_relu", "rmsprop", "nesterov"]
    finally:
        sys.path.pop(0)
    return [*registry.ACTIVATION_NAMES, *registry.LOSS_NAMES, *registry.OPTIMIZER_NAMES]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    parser.add_argument("--fail-over", action="append", default=[], metavar="KEY=N")
    args = parser.parse_args(argv)
    src = os.path.join(args.root, "src")
    mods = modules(src)
    graph, in_function, private = defaultdict(set), defaultdict(list), {}
    # the compiled extensions (_core, _portable): imported, but no Python module
    compiled = {f"{PACKAGE}.{f[:-4]}" for f in os.listdir(os.path.join(src, PACKAGE))
                if f.endswith(".pyx")}
    for name, path in mods.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        reader = _Reader(name, path.endswith("__init__.py"), set(mods), compiled)
        reader.visit(tree)
        graph[name]
        for target, inside, line in reader.imports:
            if target in mods and target != name:
                graph[name].add(target)
                if inside:
                    in_function[name].append((line, target))
        private[name] = reader.private
    found = cycles(graph)
    numbers = {"cycles": len(found),
               "function_imports": sum(len(v) for v in in_function.values()),
               "private": sum(len(v) for v in private.values())}
    print(f"import cycles (imports in functions counted): {len(found)}")
    for c in found:
        print(f"  {len(c)} modules: {', '.join(m.removeprefix(PACKAGE + '.') for m in c)}")
    print(f"package modules imported inside functions: {numbers['function_imports']}")
    for name, items in sorted(in_function.items()):
        print(f"  {name.removeprefix(PACKAGE + '.')}: "
              + ", ".join(f"{t.removeprefix(PACKAGE + '.')} (line {ln})" for ln, t in items))
    print(f"reaches into other objects' private attributes: {numbers['private']}")
    for name, items in sorted(private.items(), key=lambda kv: -len(kv[1])):
        if items:
            print(f"  {name.removeprefix(PACKAGE + '.')}: {len(items)}")
    names = args.names or registry_names(src)
    per_name = files_naming(args.root, names)
    numbers["files_per_name"] = max((len(v) for v in per_name.values()), default=0)
    print("files whose code names each activation, loss and optimizer:")
    for name, files in per_name.items():
        print(f"  {name}: {len(files)}  ({', '.join(files)})")
    print("largest modules (lines):")
    sizes = []
    for path in source_files(args.root):
        with open(os.path.join(args.root, path), encoding="utf-8") as fh:
            sizes.append((sum(1 for _ in fh), path))
    for lines, path in sorted(sizes, reverse=True)[:8]:
        print(f"  {lines:5d}  {path}")
    status = 0
    for bound in args.fail_over:
        key, _, value = bound.partition("=")
        if key not in numbers or not value.isdigit():
            parser.error(f"--fail-over takes KEY=N with KEY in {', '.join(numbers)}; "
                         f"got {bound!r}")
        if numbers[key] > int(value):
            print(f"FAIL: {key} = {numbers[key]}, over the bound {value}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
