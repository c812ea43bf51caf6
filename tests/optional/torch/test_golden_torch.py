"""Oracle golden digests: what Network.to_torch (cyneuron._to_torch) writes for every activation.

The modules as text (class, settings, parameters' bytes), and the digest
of the Network cn.from_torch reads back, taken before the conversions read
the registry's rows.
The networks and the canonical texts are in tests/exporter_cases.py.
"""
import pytest
from exporter_cases import DTYPES, cases, network, sha, torch_canonical

import cyneuron as cn

# "<case>-<dtype>": (to_torch's modules, from_torch's network digest)
GOLDEN = {
 'elu+softmax-float32': ('1b4b98bd247fb5ce', '297b2fd752063145'),
 'elu+softmax-float64': ('1eaec2abd86d889a', 'ab81ecf8a02c9409'),
 'elu-float32': ('3bb126954a1e7b0c', '82f381e84f461e51'),
 'elu-float64': ('56ba4ae35e0b3d48', 'd301b5a46a94b955'),
 'gelu+softmax-float32': ('7cbabc533c4554d8', '70aba9d868a0fb95'),
 'gelu+softmax-float64': ('06f4f6eed2294ae2', 'd2e26047ea333864'),
 'gelu-float32': ('29ac5d3b9effcb88', 'f96a4555c491d3a9'),
 'gelu-float64': ('758da72b43359f5f', '907ed62026bf74b9'),
 'identity+softmax-float32': ('d5f0e19770f4350e', '7c9f0fdf9dfb84ea'),
 'identity+softmax-float64': ('47fcd5e6bcd61894', '04b5563d42cc40f9'),
 'identity-float32': ('02686597eabfab8d', 'ec1ff4cffa09131b'),
 'identity-float64': ('62d7d1f8e652aa7d', 'c7a7b715fe4fb360'),
 'leaky_relu+softmax-float32': ('67d6f0d34876e022', '5d75d54a9b5846ec'),
 'leaky_relu+softmax-float64': ('61d71f7ecfbbbeac', '1cd6c4f586501917'),
 'leaky_relu-float32': ('658a090616cd5f19', '24e52e8d50346a67'),
 'leaky_relu-float64': ('2ec74c2bf05b269c', 'bdd1c492e6985501'),
 'leaky_relu_0.0+softmax-float32': ('5c34546bf798d449', '635694571032669b'),
 'leaky_relu_0.0+softmax-float64': ('4dc3d4f69cf8c462', '9ff41c6b2813078c'),
 'leaky_relu_0.0-float32': ('f3ea5dbb61415a10', 'adf5c97a468f15c7'),
 'leaky_relu_0.0-float64': ('944fe320e8c579ca', '4e3a6938c9b506dd'),
 'leaky_relu_0.1+softmax-float32': ('234f259d34d581e6', '579f75a48b4039fb'),
 'leaky_relu_0.1+softmax-float64': ('b45dfd153915a1c0', '22ee11fd6cf54034'),
 'leaky_relu_0.1-float32': ('596af71c97b1a24d', '6a6ad6a3356416ee'),
 'leaky_relu_0.1-float64': ('63cef016426f3f08', 'c3b5acd1382bc30c'),
 'relu+softmax-float32': ('9eeed67813070ee0', 'd613f240cc4b75ad'),
 'relu+softmax-float64': ('ac17b1e91ca175ef', '3a72c5484f8ab5c7'),
 'relu-float32': ('2f4fa04d696a91fe', '802582e3627fabd6'),
 'relu-float64': ('1ceaf5c53b116b24', '12768b9e90bc3f05'),
 'sigmoid+softmax-float32': ('426fb931be5245d2', '2c2d1b823c7a9b7b'),
 'sigmoid+softmax-float64': ('e1df88c4e7d24b3e', 'fb6c668e1d740dc9'),
 'sigmoid-float32': ('25aa7f054c0cde86', 'bb0ab8689e4af00b'),
 'sigmoid-float64': ('7594c932e3942216', '9f696f4b1c65343d'),
 'silu+softmax-float32': ('c8c4e06b0a2d0ad4', '9b842431232a997a'),
 'silu+softmax-float64': ('dafe7091ed8b3985', '812e8e83290b72d5'),
 'silu-float32': ('3a758b767cdf70d9', '23c62b171248acfa'),
 'silu-float64': ('771948770794a5f7', 'bb9e539fda1c1944'),
 'softplus+softmax-float32': ('722e3292a069f46d', 'f64d5d0995105c42'),
 'softplus+softmax-float64': ('4218dc10223a20c2', '79d62c322feb13e5'),
 'softplus-float32': ('70ccacb3652e375e', 'd68701216e19c1af'),
 'softplus-float64': ('e34cf8b012fac58e', 'd7916ff15ebd19fa'),
 'tanh+softmax-float32': ('b3e6644bf5d88869', 'bd12300f413b0581'),
 'tanh+softmax-float64': ('5d6ec69f0e7a56f6', '6fdb229985ed70c8'),
 'tanh-float32': ('5093d0addf3d8575', '00d682dce57f2338'),
 'tanh-float64': ('3bf6fc08614c7445', '17b64efcee7e6cb8')}

CASES = [(key, sizes, acts, dt) for key, sizes, acts in cases() for dt in DTYPES]


def test_every_case_has_a_digest():
    assert sorted(GOLDEN) == sorted(f"{key}-{dt}" for key, _, _, dt in CASES)


@pytest.mark.parametrize("key,sizes,acts,dtype", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_modules_and_round_trip_unchanged(key, sizes, acts, dtype):
    seq = network(sizes, acts, dtype).to_torch()
    got = (sha(torch_canonical(seq)), cn.from_torch(seq).digest()[:16])
    assert got == GOLDEN[f"{key}-{dtype}"]
