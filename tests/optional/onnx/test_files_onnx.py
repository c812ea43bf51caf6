"""cyneuron._files with onnx: atomic writes of to_onnx(model, path): the checks of tests/test_files.py.

Oracle: the folder's state after injected failures.
"""
import onnx
from helpers import check_atomic_writer

import cyneuron as cn

NETS = [cn.Network([3, 4, 2], seed=s) for s in (1, 2)]


def _write(path, which):
    cn.to_onnx(NETS[which], path)
    return path


def test_onnx_files_are_written_atomically(tmp_path):
    check_atomic_writer(tmp_path, _write, ".onnx")
    # and what is written is the model
    path = str(tmp_path / "m.onnx")
    proto = cn.to_onnx(NETS[1], path)
    assert onnx.load(path).SerializeToString() == proto.SerializeToString()
