"""cyneuron._files with matplotlib: atomic writes of the plots' files: the checks of tests/test_files.py;
the format still follows the suffix, and no suffix adds matplotlib's default.

Oracle: the folder's state after injected failures.
"""
import matplotlib
from helpers import check_atomic_writer

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import cyneuron as cn  # noqa: E402

_X, _Y = np.linspace(-1, 1, 8).reshape(4, 2), np.arange(4.0).reshape(4, 1)
HISTORIES = [cn.Network([2, 1], seed=0).fit(_X, _Y, epochs=3),
             cn.Network([2, 1], seed=0).fit(_X, _Y, epochs=2, validation_data=(_X, _Y))]


def _write(path, which):
    HISTORIES[which].plot(path)
    return path


def test_plot_files_are_written_atomically_in_the_format_of_their_suffix(tmp_path):
    (tmp_path / "checks").mkdir()
    check_atomic_writer(tmp_path / "checks", _write, ".png")
    _write(str(tmp_path / "a.svg"), 0)
    assert (tmp_path / "a.svg").read_bytes().lstrip().startswith(b"<?xml")
    _write(str(tmp_path / "b.PDF"), 0)
    assert (tmp_path / "b.PDF").read_bytes().startswith(b"%PDF")
    _write(str(tmp_path / "c"), 0)                 # as savefig: the default format added
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.svg", "b.PDF", "c.png", "checks"]
