"""cyneuron._layout: the one owner of the parameter layout.

Oracles: the reference's flatten/unflatten; the network's own arrays (views, not copies).
"""
import numpy as np
import pytest

import cyneuron as cn
from cyneuron import reference as ref
from cyneuron._layout import Layout


@pytest.mark.parametrize("sizes", [[1, 1], [3, 4, 2], [5, 7, 1, 3]])
def test_layout_agrees_with_the_reference_flatten_and_unflatten(sizes):
    layout = Layout(sizes)
    rng = np.random.default_rng(0)
    pairs = [(rng.random(w), rng.random(b)) for w, b in layout.shapes]
    flat = ref.flatten(pairs)
    assert layout.n_params == flat.size
    assert layout.flatten(pairs).tobytes() == flat.tobytes()
    for (W, b), (Wr, br) in zip(layout.views(flat), ref.unflatten(flat, pairs)):
        assert W.shape == Wr.shape and b.shape == br.shape
        assert np.shares_memory(W, flat) and np.shares_memory(b, flat)
        assert W.tobytes() == Wr.tobytes() and b.tobytes() == br.tobytes()
    state = np.arange(layout.n_state, dtype=float)
    m, v = layout.state_halves(state)
    assert m.tobytes() + v.tobytes() == state.tobytes() and m.size == v.size == flat.size
    names = layout.array_shapes("p_")
    assert names["p_optimizer_state"] == (2 * flat.size,)
    assert [names[f"p_W{l}"] for l in range(len(sizes) - 1)] == [w for w, _ in layout.shapes]


@pytest.mark.parametrize("backend", ["cython", "numpy"])
def test_network_state_is_the_networks_own(backend):
    net = cn.Network([3, 4, 2], seed=0, backend=backend)
    st = net.state
    assert st is net.state and st.layout.sizes == net.layer_sizes
    assert st.layout.n_params == net.n_params
    for (W, b), (Wc, bc) in zip(st.layers, net.get_weights()):
        assert W.tobytes() == Wc.tobytes() and b.tobytes() == bc.tobytes()
    st.layers[0][1][0] = 5.0          # the views write the network
    assert net.get_weights()[0][1][0] == 5.0
    X, y = np.ones((4, 3)), np.zeros((4, 2))
    net.fit(X, y, epochs=2, optimizer="adam")
    assert st.opt_scalars[0] == 2 and np.count_nonzero(st.opt_state)
    saved = net.snapshot()
    net.fit(X, y, epochs=2, optimizer="sgd")        # another optimizer: fresh state
    assert st.opt_scalars[0] == 0
    net.restore(saved)
    assert st.opt_scalars[0] == 2 and net.optimizer.name == "adam"
