"""The model formats' codec layer alone (cyneuron._codec, _npz, _safetensors_io): a header and
named arrays to a file and back, with no model anywhere; what a codec refuses
it refuses before the schema sees anything; and the codecs import nothing that
knows a model.

Oracles: exact bytes after a round trip; the error each refused file must raise.
"""
import ast
import json
import os
import pathlib

import numpy as np
import pytest

from cyneuron import _codec, _npz, _safetensors_io

SRC = pathlib.Path(_codec.__file__).parent


def _layout_of(expected):
    """A HeaderCheck that accepts any JSON object and announces `expected`."""
    seen = []

    def check(data, key):
        meta = _codec.parse_json(data, key)
        seen.append((meta, key))
        return meta, {k: (np.dtype(d), s) for k, (d, s) in expected.items()}
    return check, seen


HEADER = {"anything": [1, 2.5, "x"], "nested": {"a": None}}
ARRAYS = {"a": np.arange(6, dtype=np.float64).reshape(2, 3),
          "b": np.array([1.5, -2.0], dtype=np.float32)}
LAYOUT = {"a": ("<f8", (2, 3)), "b": ("<f4", (2,))}


def _codecs():
    out = [(_npz, "m.npz")]
    try:
        import safetensors  # noqa: F401
        out.append((_safetensors_io, "m.safetensors"))
    except ImportError:
        pass
    return out


@pytest.mark.parametrize("codec,name", _codecs())
def test_a_codec_round_trips_a_header_and_arrays_without_a_model(tmp_path, codec, name):
    path = tmp_path / name
    codec.write(path, HEADER, ARRAYS)
    check, seen = _layout_of(LAYOUT)
    meta, arrays = codec.read(path, check)
    assert meta == HEADER and seen[0][0] == HEADER
    assert isinstance(arrays, _codec.Tensors) and set(arrays) == set(ARRAYS)
    for k, a in ARRAYS.items():
        assert arrays[k].dtype == a.dtype and arrays[k].shape == a.shape
        assert arrays[k].tobytes() == a.tobytes() and arrays[k].flags.c_contiguous


@pytest.mark.parametrize("codec,name", _codecs())
def test_an_array_the_header_does_not_announce_is_refused(tmp_path, codec, name):
    path = tmp_path / name
    codec.write(path, HEADER, {**ARRAYS, "extra": np.zeros(2)})
    check, _ = _layout_of(LAYOUT)
    with pytest.raises(ValueError, match="unexpected (member|tensor) 'extra"):
        codec.read(path, check)


@pytest.mark.parametrize("codec,name", _codecs())
def test_an_array_of_another_dtype_or_shape_is_refused(tmp_path, codec, name):
    path = tmp_path / name
    codec.write(path, HEADER, {"a": ARRAYS["a"].astype(np.float32), "b": ARRAYS["b"]})
    check, _ = _layout_of(LAYOUT)
    with pytest.raises(ValueError, match="'a'"):
        codec.read(path, check)


@pytest.mark.parametrize("codec,name", _codecs())
def test_an_absent_array_is_the_schemas_business(tmp_path, codec, name):
    """A codec reads what is there; the schema refuses or defaults what is not."""
    path = tmp_path / name
    codec.write(path, HEADER, {"a": ARRAYS["a"]})
    check, _ = _layout_of(LAYOUT)
    _, arrays = codec.read(path, check)
    assert set(arrays) == {"a"}


@pytest.mark.parametrize("codec,name", _codecs())
def test_the_header_check_decides_what_a_header_may_be(tmp_path, codec, name):
    path = tmp_path / name
    codec.write(path, HEADER, ARRAYS)

    def refuse(data, key):
        raise ValueError(f"header {key!r} is not mine")
    with pytest.raises(ValueError, match="is not mine"):
        codec.read(path, refuse)


@pytest.mark.parametrize("codec,name", _codecs())
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_only_regular_files_are_read(tmp_path, codec, name):
    path = tmp_path / name
    os.mkfifo(path)
    check, _ = _layout_of(LAYOUT)
    with pytest.raises(ValueError, match="it is a FIFO; only regular files are read"):
        codec.read(path, check)


def test_the_npz_codec_refuses_what_is_not_a_zip_archive(tmp_path):
    check, _ = _layout_of(LAYOUT)
    npy = tmp_path / "one.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ValueError, match=r"not a zip \(.npz\) archive \(it is a single .npy"):
        _npz.read(npy, check)
    with pytest.raises(ValueError, match="missing 'meta' header"):
        np.savez(tmp_path / "nometa.npz", a=ARRAYS["a"])
        _npz.read(tmp_path / "nometa.npz", check)


def test_the_npz_codec_checks_sizes_before_inflating(tmp_path):
    path = tmp_path / "m.npz"
    _npz.write(path, HEADER, ARRAYS)
    check, _ = _layout_of(LAYOUT)
    with pytest.raises(ValueError, match="over the limit max_bytes=16"):
        _npz.read(path, check, max_bytes=16)
    with pytest.raises(TypeError, match="max_bytes must be a positive int"):
        _npz.read(path, check, max_bytes=0)


def test_the_json_parser_is_bounded():
    with pytest.raises(ValueError, match="nested more than"):
        _codec.parse_json(b"[" * 40 + b"]" * 40)
    with pytest.raises(ValueError, match="not valid JSON"):
        _codec.parse_json(b'{"a": NaN}')
    with pytest.raises(ValueError, match="appears twice"):
        _codec.parse_json(b'{"a": 1, "a": 2}')
    with pytest.raises(ValueError, match="digits"):
        _codec.parse_json(b"1" + b"0" * 60)
    assert _codec.parse_json(json.dumps(HEADER).encode()) == HEADER


def test_the_npz_header_is_the_json_text_in_a_uint8_member(tmp_path):
    path = tmp_path / "m.npz"
    _npz.write(path, HEADER, ARRAYS)
    with np.load(path) as f:
        assert json.loads(f["meta"].tobytes()) == HEADER
        assert f["a"].tobytes() == ARRAYS["a"].tobytes()


def _package_imports(module):
    """The cyneuron modules `module` imports, wherever the import stands."""
    tree = ast.parse((SRC / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module} if node.module else {a.name for a in node.names}
    return out


@pytest.mark.parametrize("codec", ["_codec", "_npz", "_safetensors_io"])
def test_the_codecs_import_nothing_that_knows_a_model(codec):
    assert _package_imports(codec) <= {"_codec", "_files"}
