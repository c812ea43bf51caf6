"""cyneuron._files with safetensors: atomic writes of .safetensors model files: the checks of
tests/test_files.py, and no SafetensorError ever escapes for an I/O failure.

Oracle: the folder's state after injected failures.
"""
import os

import pytest
from helpers import bits, check_atomic_writer, kill_during_saves

import cyneuron as cn

NETS = [cn.Network([30, 40, 5], seed=s) for s in (1, 2)]


def _write(path, which):
    return cn.save(NETS[which], path)


def test_safetensors_saves_are_atomic(tmp_path):
    check_atomic_writer(tmp_path, _write, ".safetensors")


def test_a_killed_safetensors_save_leaves_the_old_or_the_new_model(tmp_path):
    # the library's own save_file left its 100 MB ".tmpXXXX" files behind on a kill
    outcomes = kill_during_saves(str(tmp_path), ".safetensors", kills=10)
    inside = [last for _, last, _ in outcomes if last.startswith("saving")]
    assert len(inside) >= len(outcomes) // 2, outcomes


def test_io_failures_are_oserrors_not_safetensor_errors(tmp_path):
    # a missing folder and a real failure midway: OSError naming the path
    path = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(FileNotFoundError, match="nope"):
        cn.save(NETS[0], path)
    from helpers import file_size_limit
    path = str(tmp_path / "m.safetensors")
    cn.save(NETS[0], path)
    before = open(path, "rb").read()
    with file_size_limit(4096):
        with pytest.raises(OSError) as info:
            cn.save(NETS[1], path)
    assert type(info.value).__module__ == "builtins" and info.value.filename == path
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert [bits(W) for W, _ in cn.load(path).get_weights()] == \
        [bits(W) for W, _ in NETS[0].get_weights()]
