"""Cross-compile cyneuron's extensions for another architecture (used by .ci/cross).

Only the tests run under emulation: Cython runs here, once (its C output does
not depend on the target), and a cross gcc compiles that C on this machine.
Everything a native ``pip install`` would decide comes from the project's own
files, so that this build cannot drift from setup.py: setup.py is executed
with ``setuptools.setup`` captured (its ``cythonize`` call writes the C files)
and its build_ext subclass sets the exact-arithmetic flags and macros on the
captured extensions; the compiler and link commands around them are the
target interpreter's (its ``_sysconfigdata``: CFLAGS, CCSHARED, LDSHARED,
EXT_SUFFIX), with its first word, the compiler, replaced by the cross gcc.

Both steps are cached (``--cache``): the C files by a hash of what Cython
reads, the compiled modules by a hash of those, of csrc/, of the commands and
of the compiler's version.  Prints the folder holding ``cyneuron/*.so``.

NumPy's headers are those of the build requirement (numpy>=2 in this
interpreter): ``_numpyconfig.h`` is the same on every 64-bit Linux (LP64, a
16-byte long double) and the byte order is the target compiler's own macros;
built against them, the core runs on NumPy 1.23 and later.
"""
import argparse
import glob
import hashlib
import json
import os
import runpy
import shutil
import subprocess
import sys
import types
from concurrent.futures import ThreadPoolExecutor

NUMPY_INCLUDE = "{numpy_include}"   # placeholder for the build NumPy's headers in the cache


def digest(paths, extra=()):
    """SHA-256 over the files' names and contents and over the extra strings."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(os.path.basename(p).encode() + b"\0")
        with open(p, "rb") as f:
            h.update(f.read())
    for e in extra:
        h.update(str(e).encode() + b"\0")
    return h.hexdigest()[:16]


def cython_sources(repo):
    return [os.path.join(repo, "setup.py"),
            *glob.glob(os.path.join(repo, "src", "cyneuron", "*.pyx")),
            *glob.glob(os.path.join(repo, "src", "cyneuron", "*.pxd")),
            *glob.glob(os.path.join(repo, "src", "cyneuron", "*.pxi"))]


def cythonize(repo, cache):
    """setup.py's extensions, cythonized in a cached copy of the tree: (folder, spec)."""
    import Cython
    import numpy as np
    key = digest(cython_sources(repo), [Cython.__version__, sys.version_info[:2]])
    tree = os.path.join(cache, f"cython-{key}")
    stamp = os.path.join(tree, "extensions.json")
    if os.path.exists(stamp):
        print(f"cythonized C: cached ({tree})")
        with open(stamp) as f:
            return tree, json.load(f)
    tmp = tree + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "src"))
    shutil.copy2(os.path.join(repo, "setup.py"), tmp)
    ignore = shutil.ignore_patterns("*.so", "*.c", "__pycache__", "*.html")
    shutil.copytree(os.path.join(repo, "src", "cyneuron"), os.path.join(tmp, "src", "cyneuron"),
                    ignore=ignore)
    shutil.copytree(os.path.join(repo, "csrc"), os.path.join(tmp, "csrc"))
    import setuptools
    from setuptools.command.build_ext import build_ext
    captured = {}
    real_setup = setuptools.setup
    setuptools.setup = lambda **kw: captured.update(kw)
    cwd = os.getcwd()
    try:
        os.chdir(tmp)
        print(f"cythonize (Cython {Cython.__version__}) through setup.py in {tmp}")
        runpy.run_path("setup.py", run_name="__main__")
        # setup.py's build_ext subclass decides the flags; the compiler it
        # would call (build_ext.build_extensions) is not called
        cmd_class = captured["cmdclass"]["build_ext"]
        parent = build_ext.build_extensions
        build_ext.build_extensions = lambda self: None
        try:
            cmd = object.__new__(cmd_class)
            cmd.compiler = types.SimpleNamespace(compiler_type="unix")
            cmd.extensions = captured["ext_modules"]
            cmd.build_extensions()
        finally:
            build_ext.build_extensions = parent
    finally:
        os.chdir(cwd)
        setuptools.setup = real_setup
    spec = []
    for ext in captured["ext_modules"]:
        spec.append({
            "name": ext.name,
            "sources": ext.sources,
            "include_dirs": [NUMPY_INCLUDE if os.path.realpath(d) == os.path.realpath(np.get_include())
                             else d for d in ext.include_dirs],
            "define_macros": [list(m) for m in ext.define_macros],
            "extra_compile_args": list(ext.extra_compile_args or []),
            "extra_link_args": list(ext.extra_link_args or []),
        })
    with open(os.path.join(tmp, "extensions.json"), "w") as f:
        json.dump(spec, f, indent=1)
    shutil.rmtree(tree, ignore_errors=True)
    os.rename(tmp, tree)
    prune(tree)
    return tree, spec


def prune(keep):
    """Remove the cache's older siblings of `keep` (cython-*, ext-*): one of each stays."""
    prefix = os.path.basename(keep).split("-")[0] + "-"
    parent = os.path.dirname(keep)
    for name in os.listdir(parent):
        path = os.path.join(parent, name)
        if name.startswith(prefix) and path != keep and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)


def target_config(sysroot):
    """The target interpreter's build variables (its _sysconfigdata module)."""
    found = glob.glob(os.path.join(sysroot, "usr", "lib", "python3*", "_sysconfigdata__linux_*.py"))
    if len(found) != 1:
        raise SystemExit(f"expected one _sysconfigdata file in {sysroot}, found {found}")
    return runpy.run_path(found[0])["build_time_vars"]


def run(cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    return cmd, res


def build(repo, tree, spec, sysroot, cc, cache, jobs):
    """Compile and link each extension with the cross compiler: the folder of the modules."""
    import numpy as np

    def where(p):  # Cython's output is in the cached tree, the C library in the checkout
        return os.path.join(tree if p.startswith("src" + os.sep) or p.startswith("src/") else repo, p)
    cfg = target_config(sysroot)
    words = {k: cfg[k].split() for k in ("CC", "CFLAGS", "CCSHARED", "LDSHARED")}
    compiler_so = [cc, *words["CC"][1:], *words["CFLAGS"], *words["CCSHARED"]]
    linker_so = [cc, *words["LDSHARED"][1:]]
    includepy = sysroot + cfg["INCLUDEPY"]
    # Debian's pyconfig.h includes <TRIPLET/python3.X/pyconfig.h> from /usr/include
    python_includes = ["-I" + includepy, "-idirafter", sysroot + "/usr/include"]
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, check=True).stdout
    csrc = glob.glob(os.path.join(repo, "csrc", "*"))
    generated = [where(s) for e in spec for s in e["sources"]]
    key = digest(csrc + generated + [os.path.abspath(__file__)],
                 [compiler_so, linker_so, version, np.__version__, cfg["EXT_SUFFIX"]])
    out = os.path.join(cache, f"ext-{key}")
    if os.path.exists(os.path.join(out, "done")):
        print(f"cross-built extensions: cached ({out})")
        return out
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "obj"))
    os.makedirs(os.path.join(tmp, "cyneuron"))
    print(version.splitlines()[0])
    compiles, links = [], []
    for e in spec:
        incs = [np.get_include() if d == NUMPY_INCLUDE else where(d)
                for d in e["include_dirs"]]
        macros = [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in e["define_macros"]]
        objs = []
        for src in e["sources"]:
            obj = os.path.join(tmp, "obj", e["name"] + "-" + os.path.basename(src) + ".o")
            compiles.append([*compiler_so, *macros, *("-I" + d for d in incs), *python_includes,
                             "-c", where(src), "-o", obj, *e["extra_compile_args"]])
            objs.append(obj)
        target = os.path.join(tmp, *e["name"].split(".")) + cfg["EXT_SUFFIX"]
        links.append([*linker_so, *objs, "-o", target, *e["extra_link_args"]])
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(run, sorted(compiles, key=lambda c: -os.path.getsize(
            c[c.index("-c") + 1]))))
    failed = False
    for cmd, res in results:
        print(" ".join(cmd))
        sys.stdout.write(res.stdout + res.stderr)
        failed |= res.returncode != 0
    if failed:
        raise SystemExit("a cross compile failed")
    for cmd in links:
        print(" ".join(cmd))
        subprocess.run(cmd, check=True)
    lacking = [c for c in compiles if "-ffp-contract=off" not in c]
    if lacking:
        raise SystemExit(f"compile lines without -ffp-contract=off: {lacking}")
    print(f"compile lines: {len(compiles)}, all with -ffp-contract=off")
    with open(os.path.join(tmp, "done"), "w") as f:
        f.write("\n".join(" ".join(c) for c in compiles + links) + "\n")
    shutil.rmtree(os.path.join(tmp, "obj"))
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    prune(out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", required=True, help="the project's checkout")
    ap.add_argument("--sysroot", required=True, help="the target's extracted Debian packages")
    ap.add_argument("--cc", required=True, help="the cross C compiler")
    ap.add_argument("--cache", required=True, help="cache folder (the C files: its parent)")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    repo, cache = os.path.abspath(a.repo), os.path.abspath(a.cache)
    tree, spec = cythonize(repo, os.path.dirname(cache))
    out = build(repo, tree, spec, os.path.abspath(a.sysroot), a.cc, cache, a.jobs)
    print(out)


if __name__ == "__main__":
    main()
