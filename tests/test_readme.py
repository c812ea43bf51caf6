"""README.md: every Python block runs as written, on its own, in a fresh
interpreter; so does every whole program on the documentation site (a
``.. code-block:: python`` of docs/*.rst, or a fenced block of docs/*.md,
whose first line is an import: the site's fragments start otherwise, and
its ``>>>`` examples run under ``sphinx-build -b doctest``).

A block that names an optional extra (``cyneuron[plot]``, ``import torch``,
...) is collected only where that extra is installed, as tests/optional is;
CI's extras cell (``CYNEURON_REQUIRE_EXTRAS=1``) installs them all and runs
every block.

Oracle: the blocks' own asserts and printed results, in a fresh interpreter.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest
from extras import OPTIONAL_DIRS, missing_modules

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SRC = pathlib.Path(__import__("cyneuron").__file__).resolve().parent.parent


def _blocks():
    text = README.read_text(encoding="utf-8")
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S)]


def _is_program(code):
    return re.match(r"(import|from)\s", code) is not None


def _doc_programs():
    """(file:line, code) of the site's whole programs."""
    out = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S):
            if _is_program(m.group(1)):
                out.append((f"docs/{path.name}:{text[:m.start()].count(chr(10)) + 2}",
                            m.group(1)))
    for path in sorted(DOCS.glob("*.rst")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.strip() != ".. code-block:: python":
                continue
            indent = len(line) - len(line.lstrip()) + 3
            body, j = [], i + 1
            while j < len(lines) and (not lines[j].strip() or
                                      len(lines[j]) - len(lines[j].lstrip()) >= indent):
                body.append(lines[j][indent:])
                j += 1
            code = "\n".join(body).strip("\n") + "\n"
            if _is_program(code):
                out.append((f"docs/{path.name}:{i + 1}", code))
    return out


def _needs(code):
    """The optional modules a block uses: its imports, and the extras it names."""
    needs = set()
    for extra, modules in OPTIONAL_DIRS.values():
        if re.search(rf"cyneuron\[[^\]]*\b{extra}\b", code):
            needs.update(modules)
    for m in re.finditer(r"^\s*(?:import|from)\s+([A-Za-z_][\w]*)", code, flags=re.M):
        for _, modules in OPTIONAL_DIRS.values():
            if m.group(1) in modules:
                needs.add(m.group(1))
    return sorted(needs)


def _collected():
    out = []
    strict = os.environ.get("CYNEURON_REQUIRE_EXTRAS") == "1"
    blocks = [(f"README.md:{line}", code) for line, code in _blocks()] + _doc_programs()
    for where, code in blocks:
        if strict or not missing_modules(_needs(code)):
            out.append(pytest.param(code, id=where))
    return out


def test_the_readme_has_python_blocks():
    # the README's usage, the Keras-style classifier and the estimator
    assert len(_blocks()) >= 3


def test_the_site_has_whole_programs():
    assert len(_doc_programs()) >= 8


@pytest.mark.parametrize("code", _collected())
def test_readme_block_runs(code, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
