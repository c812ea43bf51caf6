"""AdamW's optimizer state in the safetensors format: the same schema as .npz."""
import numpy as np
from safetensors.numpy import load_file

import cyneuron as cn


def test_adamw_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(30, 4)), rng.normal(size=(30, 1))
    net = cn.Network([4, 5, 1], seed=2)
    net.fit(X, y, epochs=3, batch_size=8, optimizer=cn.optimizers.AdamW(weight_decay=0.1))
    path = cn.save(net, tmp_path / "m.safetensors")
    back = cn.load(path)
    assert back.optimizer.name == "adamw" and back.optimizer.params == net.optimizer.params
    assert back.state.opt_state.tobytes() == net.state.opt_state.tobytes()
    assert back.state.opt_scalars.tobytes() == net.state.opt_scalars.tobytes()
    assert load_file(path)["optimizer_state"].tobytes() == net.state.opt_state.tobytes()
