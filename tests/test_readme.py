"""README.md: every Python block runs as written, on its own, in a fresh
interpreter.

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

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
SRC = pathlib.Path(__import__("cyneuron").__file__).resolve().parent.parent


def _blocks():
    text = README.read_text(encoding="utf-8")
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"```python\n(.*?)```", text, flags=re.S)]


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
    for line, code in _blocks():
        if strict or not missing_modules(_needs(code)):
            out.append(pytest.param(code, id=f"README.md:{line}"))
    return out


def test_the_readme_has_python_blocks():
    assert len(_blocks()) >= 6


@pytest.mark.parametrize("code", _collected())
def test_readme_block_runs(code, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(SRC), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
