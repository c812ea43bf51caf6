"""Golden digests of what cn.export_c writes for every activation (issue 27).

The header's text (less the portable functions copied from csrc, which
belong to tests/test_portable_golden.py) and the bits of
portable_feedforward, taken before the exporters read the registry's rows:
moving an activation's C spelling must not move a byte.
The networks and the canonical texts are in tests/exporter_cases.py.
"""
import pytest
from exporter_cases import DTYPES, cases, inputs, network, sha

import cyneuron as cn
from cyneuron import _export_c as ec
from cyneuron._portable_c import PORTABLE_C

# "<case>-<dtype>": (header less the portable functions, portable_feedforward's bits)
GOLDEN = {
 'identity+softmax-float32': ('f5a91c5fcb9feada', '5c0630aecd6d0d46'),
 'identity+softmax-float64': ('4c4b9f46cf292c06', 'c5abbe4988c77733'),
 'identity-float32': ('61d2464dcb85d18c', '4230f1c3f9053477'),
 'identity-float64': ('7290ccfe515bf544', '8f332b9ca814ab50'),
 'leaky_relu+softmax-float32': ('f7ff49d7521cb468', '2b4209fa539c927e'),
 'leaky_relu+softmax-float64': ('e9f8b39f6bbad684', '1458789751de246b'),
 'leaky_relu-float32': ('d1a46b9d08e616bd', '72f1a6ea24cf46ae'),
 'leaky_relu-float64': ('7071193eddd7a492', 'fe9c5f3b84e4e183'),
 'leaky_relu_0.0+softmax-float32': ('fcd3390940fe994d', 'a3bc31a40f5eb0b3'),
 'leaky_relu_0.0+softmax-float64': ('61cd41ac9305045b', '177e4c077601b937'),
 'leaky_relu_0.0-float32': ('de5a8d3562c5edc4', '88c6071367abcd88'),
 'leaky_relu_0.0-float64': ('5ce5558ae6dfc2bb', '86ab116efcb3f340'),
 'leaky_relu_0.1+softmax-float32': ('d0c37e767d48536f', '3f253c11b807d29a'),
 'leaky_relu_0.1+softmax-float64': ('b48d3d29ab792adf', '09f63928c583a96b'),
 'leaky_relu_0.1-float32': ('7aa200551cbf271d', '74942f6e0cbc4958'),
 'leaky_relu_0.1-float64': ('f4c2011e3c8e357e', '8747468b5137fde2'),
 'relu+softmax-float32': ('6a09ad47397a5dd8', 'a3bc31a40f5eb0b3'),
 'relu+softmax-float64': ('3cd94a1e827f8a4f', '177e4c077601b937'),
 'relu-float32': ('10d8cd5bcc41c586', '900d15d37ea3c96b'),
 'relu-float64': ('070325fa6c0dffcc', '300e1ed99be0157f'),
 'sigmoid+softmax-float32': ('071f58c0e862f847', '9e7ee1ecf82de78c'),
 'sigmoid+softmax-float64': ('d77471ef107ad8e8', '8152ff9ee56ebaf4'),
 'sigmoid-float32': ('4ba923f49e4376dd', 'f1e060a5936f9e9b'),
 'sigmoid-float64': ('33d6f3255c3cd6e1', 'fa38ea4ed5fd7439'),
 'silu+softmax-float32': ('f4341420f5ea4976', '882d6d59e01eb6b5'),
 'silu+softmax-float64': ('790daf8eba9ebe97', '238a0f3f29ab7416'),
 'silu-float32': ('842e5a16386f2181', '8887feb17cb6075c'),
 'silu-float64': ('c2a106545a9ff86b', '576b1495a5db18c1'),
 'softplus+softmax-float32': ('1a179ebd38f7ac0b', 'a645a250251b4315'),
 'softplus+softmax-float64': ('ab199e9baaa15124', '572c6fbfe4f5f425'),
 'softplus-float32': ('e9174f044e0654d4', 'd15e06f954baa759'),
 'softplus-float64': ('e9917ddffec29e44', '598986f999dd4456'),
 'tanh+softmax-float32': ('1add21109e55d42b', '8133a2921a6e0f9f'),
 'tanh+softmax-float64': ('59844ccce13a700b', '8b65124ad8c61a81'),
 'tanh-float32': ('f95447a3d8aa1f65', '6c049199459f7105'),
 'tanh-float64': ('5f0272047339597e', 'd5eac9788f597236')}

CASES = [(key, sizes, acts, dt) for key, sizes, acts in cases() for dt in DTYPES]


def test_every_case_has_a_digest():
    assert sorted(GOLDEN) == sorted(f"{key}-{dt}" for key, _, _, dt in CASES)


@pytest.mark.parametrize("key,sizes,acts,dtype", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_header_and_portable_forward_unchanged(tmp_path, key, sizes, acts, dtype):
    net = network(sizes, acts, dtype)
    path = tmp_path / "golden.h"
    cn.export_c(net, path, name="golden")
    text = path.read_text()
    assert PORTABLE_C in text
    got = (sha(text.replace(PORTABLE_C, "<portable>")),
           sha(ec.portable_feedforward(net, inputs(sizes[0], dtype)).tobytes()))
    assert got == GOLDEN[f"{key}-{dtype}"]
