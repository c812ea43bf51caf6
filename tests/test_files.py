"""cyneuron._files: every file cyneuron writes is written atomically.

The writers here need no extra: ``cn.save`` to ``.npz``, ``cn.export_c`` and the
CLI's predictions. ``.safetensors``, ``to_onnx`` and the plots have the same tests
in tests/optional/<extra>/test_files_<extra>.py. Failures are injected (os.fsync,
os.replace, os.open; RLIMIT_FSIZE for a real error in the middle of a write), so
that the tests need no small disk and no permissions (CI runs as root).

Oracle: the folder's state (the old file or the new one, never a temporary file).
"""
import errno
import os
import stat
import sys

import numpy as np
import pytest
from helpers import (
    bits,
    fail_create,
    fail_fsync,
    fail_replace,
    file_size_limit,
    folder_state,
    kill_during_saves,
    named_temps,
    unnamed_temps_here,
)

import cyneuron as cn
from cyneuron import cli

OLD = cn.Network([40, 60, 20], seed=1)
NEW = cn.Network([40, 60, 20], seed=2)


def _weights(net):
    return [bits(W) + bits(b) for W, b in net.get_weights()]


def _save(net, path):
    return cn.save(net, path)


def _export_c(net, path):
    cn.export_c(net, path)
    return path


# name -> (suffix, writer(net, path) -> path written)
WRITERS = {"npz": (".npz", _save), "export_c": (".h", _export_c)}


@pytest.fixture(params=["unnamed", "named"])
def temps(request, monkeypatch):
    """Both kinds of temporary file: Linux's unnamed O_TMPFILE, and the named file
    used elsewhere (and on file systems without O_TMPFILE)."""
    if request.param == "named":
        named_temps(monkeypatch)
    return request.param


def _old_file(tmp_path, writer):
    suffix, write = WRITERS[writer]
    path = str(tmp_path / ("model" + suffix))
    assert write(OLD, path) == path
    return path, write


def _names_path(exc, path):
    assert exc.filename == str(path), (exc.filename, path)
    assert repr(str(path)) in str(exc)


# --- a kill, a full disk, Ctrl-C ---------------------------------------------------------------

@pytest.mark.parametrize("kind", ["unnamed", "named"])
def test_a_killed_save_leaves_the_old_or_the_new_model(tmp_path, kind):
    outcomes = kill_during_saves(str(tmp_path), ".npz", kills=12 if kind == "unnamed" else 10,
                                 named=kind == "named")
    # the test bites: most kills land inside a save (a truncating save failed 2 in 12)
    inside = [last for _, last, _ in outcomes if last.startswith("saving")]
    assert len(inside) >= len(outcomes) // 2, outcomes
    if kind == "unnamed" and unnamed_temps_here(str(tmp_path)):
        # O_TMPFILE: the kernel frees a killed write's file (only a kill in the
        # microseconds between naming it and the rename could leave one, complete)
        assert sum(len(left) for _, _, left in outcomes) <= 1, outcomes
    elif kind == "named":
        # named temporary files stay (checked: each named .model.npz.cyneuron-<hex>.tmp)
        assert any(left for _, _, left in outcomes), outcomes
    # a leftover (a named temporary file of a killed process) is never another save's to
    # delete: the next save in the folder leaves it alone and still succeeds
    left = sorted(set(os.listdir(tmp_path)) - {"model.npz"})
    path = cn.save(NEW, tmp_path / "model.npz")
    assert sorted(set(os.listdir(tmp_path)) - {"model.npz"}) == left
    assert _weights(cn.load(path)) == _weights(NEW)


@pytest.mark.parametrize("where", ["fsync", "replace"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, temps,
                                                               writer, where):
    path, write = _old_file(tmp_path, writer)
    before = folder_state(tmp_path)
    (fail_fsync if where == "fsync" else fail_replace)(monkeypatch)
    with pytest.raises(OSError) as info:
        write(NEW, path)
    assert info.value.errno == errno.ENOSPC
    _names_path(info.value, path)
    assert folder_state(tmp_path) == before


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("writer", WRITERS)
def test_a_write_failing_midway_leaves_the_old_file(tmp_path, temps, writer):
    # the real thing, not a mock: the kernel refuses the bytes past the limit
    suffix, write = WRITERS[writer]
    size = os.path.getsize(write(NEW, str(tmp_path / ("new" + suffix))))
    os.unlink(tmp_path / ("new" + suffix))
    path, write = _old_file(tmp_path, writer)
    before = folder_state(tmp_path)
    with file_size_limit(size // 2):
        with pytest.raises(OSError) as info:
            write(NEW, path)
    assert info.value.errno == errno.EFBIG
    _names_path(info.value, path)
    assert folder_state(tmp_path) == before


def test_ctrl_c_in_the_middle_of_a_save_leaves_the_old_file(tmp_path, monkeypatch, temps):
    path, _ = _old_file(tmp_path, "npz")
    before = folder_state(tmp_path)
    real = np.lib.format.write_array
    written = []

    def interrupted(fp, array, *args, **kwargs):       # after the first arrays are out
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(array.shape)
        return real(fp, array, *args, **kwargs)
    monkeypatch.setattr(np.lib.format, "write_array", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cn.save(NEW, path)
    assert len(written) == 2
    assert folder_state(tmp_path) == before


# --- folders: read-only, missing, refused --------------------------------------------------------

@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_read_only_folder_is_an_oserror(tmp_path, monkeypatch, temps, writer, err):
    path, write = _old_file(tmp_path, writer)
    before = folder_state(tmp_path)
    fail_create(monkeypatch, err)
    with pytest.raises(OSError) as info:
        write(NEW, path)
    assert info.value.errno == err
    _names_path(info.value, path)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("writer", WRITERS)
def test_a_missing_folder_is_refused_before_any_work(tmp_path, monkeypatch, writer):
    suffix, write = WRITERS[writer]
    calls = []
    # what each writer does first with the model: it must not get that far
    for name in ("digest", "get_weights"):
        real = getattr(cn.Network, name)
        monkeypatch.setattr(cn.Network, name,
                            lambda self, *a, _real=real, _name=name, **k:
                            calls.append(_name) or _real(self, *a, **k))
    path = tmp_path / "missing" / ("model" + suffix)
    with pytest.raises(FileNotFoundError) as info:
        write(NEW, path)
    _names_path(info.value, path)
    assert calls == []
    assert os.listdir(tmp_path) == []


def _refused_paths(tmp_path, suffix):
    (tmp_path / "folder").mkdir()
    (tmp_path / ("folder" + suffix)).mkdir()
    return ["", str(tmp_path / "folder"), str(tmp_path / ("folder" + suffix)),
            str(tmp_path / "folder") + os.sep, str(tmp_path / "new") + os.sep,
            str(tmp_path / ("new" + suffix)) + os.sep]


@pytest.mark.parametrize("writer", WRITERS)
def test_empty_and_folder_paths_are_refused(tmp_path, monkeypatch, writer):
    suffix, write = WRITERS[writer]
    monkeypatch.chdir(tmp_path)                    # where "" would have written ".npz"
    for bad in _refused_paths(tmp_path, suffix):
        before = sorted(str(p) for p in tmp_path.rglob("*"))
        with pytest.raises(ValueError, match="folder|empty") as info:
            write(NEW, bad)
        assert repr(bad) in str(info.value)
        assert sorted(str(p) for p in tmp_path.rglob("*")) == before, bad


# --- what the new file is -------------------------------------------------------------------------

@pytest.mark.parametrize("writer", WRITERS)
def test_the_mode_follows_the_umask_also_over_an_existing_file(tmp_path, temps, writer):
    suffix, write = WRITERS[writer]
    old = os.umask(0o022)
    try:
        for mask, existing in [(0o022, None), (0o077, 0o644), (0o002, 0o600), (0o027, 0o666)]:
            path = str(tmp_path / f"m{mask:o}{existing or ''}{suffix}")
            if existing is not None:
                write(OLD, path)
                os.chmod(path, existing)
            os.umask(mask)
            write(NEW, path)
            os.umask(0o022)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask, (mask, existing)
    finally:
        os.umask(old)


def test_links_are_followed_and_special_files_refused(tmp_path):
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "v1.npz"
    cn.save(OLD, real)
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    cn.save(NEW, link)                     # as open(link, "w") did: the file it names
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert _weights(cn.load(real)) == _weights(NEW)
    assert sorted(os.listdir(tmp_path / "store")) == ["v1.npz"]
    fifo = tmp_path / "pipe.h"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)     # so that a writer never blocks
    try:
        with pytest.raises(ValueError, match="not a regular file"):
            cn.export_c(cn.Network([2, 2, 1], seed=0), fifo)   # a header < a pipe's buffer
        assert os.read(reader, 1 << 16) == b""
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- the command line -----------------------------------------------------------------------------

@pytest.fixture
def predict_setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cn.save(cn.Network([2, 3, 1], seed=0), "net.npz")
    for name, rows in (("a.csv", 5), ("b.csv", 7)):
        with open(name, "w") as f:
            f.write("x0,x1\n" + "".join(f"{i},{i * 0.5}\n" for i in range(rows)))
    assert cli.main(["predict", "net.npz", "a.csv", "-o", "preds.csv"]) == 0
    return tmp_path


@pytest.mark.parametrize("fault", ["enospc", "ctrl-c"])
def test_cli_predictions_file_is_atomic(predict_setup, monkeypatch, capsys, temps, fault):
    before = folder_state(predict_setup)
    assert before["preds.csv"][1].count(b"\n") == 6
    fail_fsync(monkeypatch, KeyboardInterrupt() if fault == "ctrl-c" else None)
    capsys.readouterr()
    status = cli.main(["predict", "net.npz", "b.csv", "-o", "preds.csv"])
    err = capsys.readouterr().err
    if fault == "ctrl-c":
        assert status == 130 and "interrupted" in err
    else:
        assert status == 2
        assert "cannot write preds.csv: No space left on device" in err
    assert "Traceback" not in err
    assert folder_state(predict_setup) == before


def test_cli_refuses_output_paths_before_any_work(predict_setup, capsys):
    os.mkdir("out")
    before = folder_state(predict_setup / "out")
    capsys.readouterr()
    # the model does not exist: the output path is checked first
    for bad in ("out", "out" + os.sep, "new" + os.sep):
        assert cli.main(["predict", "nope.npz", "a.csv", "-o", bad]) == 2
        assert "folder" in capsys.readouterr().err
    assert cli.main(["predict", "nope.npz", "a.csv", "-o", "missing/p.csv"]) == 2
    assert "cannot write missing/p.csv" in capsys.readouterr().err
    # train: before reading the data, let alone training (which can take minutes)
    for bad in ("out" + os.sep, "missing/m.npz"):
        assert cli.main(["train", "nope.csv", "--target", "x1", "-o", bad]) == 2
        err = capsys.readouterr().err
        assert "folder" in err or "cannot write missing/m.npz" in err, err
    assert cli.main(["train", "a.csv", "--target", "x1", "-o", "m.npz",
                     "--plot", "missing/loss.png"]) == 2
    out, err = capsys.readouterr()
    assert "trained in" not in out and "cannot write missing/loss.png" in err
    assert folder_state(predict_setup / "out") == before
    assert not os.path.exists("m.npz") and not os.path.exists(".npz")
