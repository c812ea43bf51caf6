"""Oracle golden digests: what cn.export_c (cyneuron._export_c) writes for every activation.

The header's text (less the portable functions copied from csrc, which
belong to tests/test_golden_portable.py) and the bits of
portable_feedforward, taken before the exporters read the registry's rows:
moving an activation's C spelling must not move a byte.  The header digests
were retaken once when the header gained its compiler guards and contraction
pragmas; the forward-pass digests did not move.
The networks and the canonical texts are in tests/exporter_cases.py.
"""
import pytest
from exporter_cases import DTYPES, cases, inputs, network, sha

import cyneuron as cn
from cyneuron import _export_c as ec
from cyneuron._portable_c import PORTABLE_C

# "<case>-<dtype>": (header less the portable functions, portable_feedforward's bits)
GOLDEN = {
 'elu+softmax-float32': ('45f04c856d6f8450', 'a29f772521a68899'),
 'elu+softmax-float64': ('93265d884d0b8812', 'f22328d2a920ccd8'),
 'elu-float32': ('aff7b09cfa2486bf', '1eef6596576a053c'),
 'elu-float64': ('0fee2152b363bc6e', 'cfa08b86dbcfc698'),
 'gelu+softmax-float32': ('003e0d3a9b001cc5', '096560622f938a25'),
 'gelu+softmax-float64': ('1c3156de94452ddf', '18cbf3fc5a4855f6'),
 'gelu-float32': ('c6662c0b9ca1ad05', 'c3c1f48797134e7e'),
 'gelu-float64': ('52b62fd4d613fc4d', '79c5c342aa58d96b'),
 'identity+softmax-float32': ('134cd13696a98895', '5c0630aecd6d0d46'),
 'identity+softmax-float64': ('6386f629566ad8b0', 'c5abbe4988c77733'),
 'identity-float32': ('9f64eec0ebc99a68', '4230f1c3f9053477'),
 'identity-float64': ('e5ce053d9a612e47', '8f332b9ca814ab50'),
 'leaky_relu+softmax-float32': ('a81aec315d6f4d6d', '2b4209fa539c927e'),
 'leaky_relu+softmax-float64': ('4091572ba136f38c', '1458789751de246b'),
 'leaky_relu-float32': ('6efd4c13659b68ee', '72f1a6ea24cf46ae'),
 'leaky_relu-float64': ('19b9c39c2afec888', 'fe9c5f3b84e4e183'),
 'leaky_relu_0.0+softmax-float32': ('92a2d7943aca955c', 'a3bc31a40f5eb0b3'),
 'leaky_relu_0.0+softmax-float64': ('5b079354d8bb5499', '177e4c077601b937'),
 'leaky_relu_0.0-float32': ('3838934d0383116a', '88c6071367abcd88'),
 'leaky_relu_0.0-float64': ('bd8a5dff94d6db47', '86ab116efcb3f340'),
 'leaky_relu_0.1+softmax-float32': ('a72879d5467153ea', '3f253c11b807d29a'),
 'leaky_relu_0.1+softmax-float64': ('1726d7bce74e92ce', '09f63928c583a96b'),
 'leaky_relu_0.1-float32': ('ee548e74965818cb', '74942f6e0cbc4958'),
 'leaky_relu_0.1-float64': ('3e2447acbae688b0', '8747468b5137fde2'),
 'relu+softmax-float32': ('7578a99135ed00a6', 'a3bc31a40f5eb0b3'),
 'relu+softmax-float64': ('d67e2fd201616d99', '177e4c077601b937'),
 'relu-float32': ('a33105b20562e4d9', '900d15d37ea3c96b'),
 'relu-float64': ('4e53f76f62050292', '300e1ed99be0157f'),
 'sigmoid+softmax-float32': ('dfb86fe2101eef39', '9e7ee1ecf82de78c'),
 'sigmoid+softmax-float64': ('b2669e842cec1b36', '8152ff9ee56ebaf4'),
 'sigmoid-float32': ('5254e321bf4f40b2', 'f1e060a5936f9e9b'),
 'sigmoid-float64': ('9baa1fb1eeab9af9', 'fa38ea4ed5fd7439'),
 'silu+softmax-float32': ('7a4e717f191464de', '882d6d59e01eb6b5'),
 'silu+softmax-float64': ('56d543be157ee92d', '238a0f3f29ab7416'),
 'silu-float32': ('8f80ef3b80ecb3a0', '8887feb17cb6075c'),
 'silu-float64': ('c323ca321841adaa', '576b1495a5db18c1'),
 'softplus+softmax-float32': ('0a716e032def9ac1', 'a645a250251b4315'),
 'softplus+softmax-float64': ('49a3e04ffabd8ac5', '572c6fbfe4f5f425'),
 'softplus-float32': ('e00a5c8f6e14d403', 'd15e06f954baa759'),
 'softplus-float64': ('22c82e8712e2e613', '598986f999dd4456'),
 'tanh+softmax-float32': ('7d31e660227d1324', '8133a2921a6e0f9f'),
 'tanh+softmax-float64': ('4ea89458ceb18864', '8b65124ad8c61a81'),
 'tanh-float32': ('3d177c0181278c27', '6c049199459f7105'),
 'tanh-float64': ('d2c6dc549e162c33', 'd5eac9788f597236')}

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
