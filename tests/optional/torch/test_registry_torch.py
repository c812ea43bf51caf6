"""The torch round trip of every registry row (tests/test_registry.py walks the rows without the extra)."""
import pytest
import torch
from test_registry import IDS, ROWS, network_with, spec_of, without

import cyneuron as cn


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_torch_round_trip_of_every_row_and_refusal(row):
    if row.torch.module is not None:
        assert issubclass(getattr(torch.nn, row.torch.module), torch.nn.Module)
    net = network_with(spec_of(row))
    back = cn.from_torch(net.to_torch())
    assert [a.spec for a in back.activations] == [a.spec for a in net.activations]
    with pytest.raises(ValueError, match=f"{row.name!r} of layer \\d has no PyTorch.*to_torch"):
        network_with(without(row, "torch")).to_torch()
