"""cyneuron._registry with onnx: cn.to_onnx of every registry row (tests/test_registry.py
walks the rows without the extra).

Oracles: the opset each row declares; the error naming a row without a builder.
"""
import pytest
from test_registry import IDS, ROWS, network_with, spec_of, without

import cyneuron as cn


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_to_onnx_exports_every_row_and_refuses_one_without_a_builder(row):
    for dtype in ("float64", "float32"):
        proto = cn.to_onnx(network_with(spec_of(row), dtype))
        assert proto.opset_import[0].version == max(9, row.onnx_opset[dtype == "float64"])
    with pytest.raises(ValueError, match=f"{row.name!r} of layer \\d has no ONNX export.*to_onnx"):
        cn.to_onnx(network_with(without(row, "onnx")))
