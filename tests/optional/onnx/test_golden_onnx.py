"""Oracle golden digests: what cn.to_onnx (cyneuron._onnx) writes for every activation.

The graph as text (nodes, attributes, initializers' bytes, opset), taken
before the exporter read the registry's rows: moving an activation's node
builder must not move a node.
The networks and the canonical texts are in tests/exporter_cases.py.
"""
import pytest
from exporter_cases import DTYPES, cases, network, onnx_canonical, sha

import cyneuron as cn

GOLDEN = {
 'elu+softmax-float32': '23f9a9d553ff038f',
 'elu+softmax-float64': '89d64a1ace4a10da',
 'elu-float32': '7d405edf26101eff',
 'elu-float64': 'ca5e03624ba5f543',
 'gelu+softmax-float32': 'bdafe8ad01b9b2da',
 'gelu+softmax-float64': '3ec839be4b855711',
 'gelu-float32': '4371f15ee6e336dc',
 'gelu-float64': '00f72756ba010dfc',
 'identity+softmax-float32': '52989ac3eeba71ed',
 'identity+softmax-float64': '15ccaf6ddfe1f169',
 'identity-float32': '7bdda3091821dc4a',
 'identity-float64': 'f2fd9cf1204b706c',
 'leaky_relu+softmax-float32': 'b1f8406ba9b6bd9b',
 'leaky_relu+softmax-float64': '93bafed85f521d59',
 'leaky_relu-float32': 'aa759ec61473062a',
 'leaky_relu-float64': 'f71219f9f721af63',
 'leaky_relu_0.0+softmax-float32': 'b74509a8360f0dfd',
 'leaky_relu_0.0+softmax-float64': 'a6630759daa3c67d',
 'leaky_relu_0.0-float32': '304107e2b8bc9a51',
 'leaky_relu_0.0-float64': 'a38dc7df4a1d5fa2',
 'leaky_relu_0.1+softmax-float32': '0b03ee25151b41b4',
 'leaky_relu_0.1+softmax-float64': '321252f5f3b7e624',
 'leaky_relu_0.1-float32': '827550f2522897e1',
 'leaky_relu_0.1-float64': 'e8d09b1721b83657',
 'relu+softmax-float32': '5447bdd4737be6a8',
 'relu+softmax-float64': '83b56660ad64181d',
 'relu-float32': '6acf0b1cc93d2be4',
 'relu-float64': '4dd345a798049c2e',
 'sigmoid+softmax-float32': '49268cd80cccfea5',
 'sigmoid+softmax-float64': 'b40a7492d56f653b',
 'sigmoid-float32': '9a7ef23cd8fd6cce',
 'sigmoid-float64': '94b157411c915cb5',
 'silu+softmax-float32': '5c8e532c8b52757b',
 'silu+softmax-float64': '82a007136e3b408c',
 'silu-float32': '9cb59f87f4e22588',
 'silu-float64': '854200d5077f3c01',
 'softplus+softmax-float32': '10b74ce144fb49f9',
 'softplus+softmax-float64': '7d2636d38284776e',
 'softplus-float32': '4a5f5873f3741dd4',
 'softplus-float64': 'be4ee3d3f89715e9',
 'tanh+softmax-float32': 'e3997c13ea3d3639',
 'tanh+softmax-float64': '16686aad5c2331bd',
 'tanh-float32': '79536b9d3460eb80',
 'tanh-float64': '4f74750de319a536'}

CASES = [(key, sizes, acts, dt) for key, sizes, acts in cases() for dt in DTYPES]


def test_every_case_has_a_digest():
    assert sorted(GOLDEN) == sorted(f"{key}-{dt}" for key, _, _, dt in CASES)


@pytest.mark.parametrize("key,sizes,acts,dtype", CASES, ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_graph_unchanged(key, sizes, acts, dtype):
    proto = cn.to_onnx(network(sizes, acts, dtype))
    assert sha(onnx_canonical(proto)) == GOLDEN[f"{key}-{dtype}"]
