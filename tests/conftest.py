"""Shared pytest setup for cyneuron's tests (keep it small; add fixtures below)."""
import os

import pytest


def pytest_report_header(config):
    """Say which cyneuron and NumPy a run tests, and at which SIMD level.

    CI installs the built wheel and runs the suite from the repository root;
    the first header line shows that the package came from site-packages,
    not from src/.
    """
    lines = []
    try:
        import cyneuron
        lines.append(f"cyneuron {cyneuron.__version__} from {cyneuron.__file__}")
    except Exception as exc:  # the tests themselves will report it properly
        lines.append(f"cyneuron: import failed: {exc!r}")
    try:
        import numpy
        lines.append(f"numpy {numpy.__version__} from {os.path.dirname(numpy.__file__)}")
    except Exception as exc:
        lines.append(f"numpy: import failed: {exc!r}")
    lines.append("SIMD: CYNEURON_EXPECT_SIMD=%r NPY_DISABLE_CPU_FEATURES=%r" % (
        os.environ.get("CYNEURON_EXPECT_SIMD", ""),
        os.environ.get("NPY_DISABLE_CPU_FEATURES", "")))
    return lines


# Tests of optional-dependency features live in tests/optional/<extra>/ and
# need that extra installed. The README's `python -m pytest tests` (the [test]
# extra only) does not collect a directory whose libraries are missing and
# says so in the header; CI's "extras" cell installs every extra and sets
# CYNEURON_REQUIRE_EXTRAS=1, which turns a missing library into a collection
# error, so that these tests run on every CI machine and are never skipped.
from extras import OPTIONAL_DIRS  # noqa: E402
from extras import missing_modules as _missing_modules  # noqa: E402


def pytest_ignore_collect(collection_path, config):
    """Leave out tests/optional/<extra>/ when its extra is not installed."""
    parent = collection_path.parent
    if parent.name != "optional" or parent.parent.name != "tests":
        return None
    entry = OPTIONAL_DIRS.get(collection_path.name)
    if entry is None or os.environ.get("CYNEURON_REQUIRE_EXTRAS") == "1":
        return None
    if _missing_modules(entry[1]):
        return True
    return None


_LEFT_OUT = pytest.StashKey[list]()


def pytest_collection_modifyitems(config, items):
    """Name, in the summary, each optional test directory that was left out."""
    if os.environ.get("CYNEURON_REQUIRE_EXTRAS") == "1":
        return
    left_out = [f"tests/optional/{d} (pip install 'cyneuron[{extra}]')"
                for d, (extra, mods) in OPTIONAL_DIRS.items() if _missing_modules(mods)]
    if left_out:
        config.stash[_LEFT_OUT] = left_out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    left_out = config.stash.get(_LEFT_OUT, None)
    if left_out:
        terminalreporter.write_line(
            "not collected (optional extras missing; CI's extras cell runs them): "
            + ", ".join(left_out))


@pytest.fixture
def counted_pool():
    """Count the jobs handed to worker threads exactly: the pool does not go
    alone after a late worker (a busy test machine can make one late) for
    the test, then is set back as it was."""
    from cyneuron import _native
    core = _native.core()
    was = core.pool_adaptive(False)
    core.pool_run_alone(0)
    yield
    core.pool_adaptive(was)
