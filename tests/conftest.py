"""Shared pytest setup for cyneuron's tests (keep it small; add fixtures below)."""
import os


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
