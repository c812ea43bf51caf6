"""Write the version-1 model files in tests/data (run once with the io.py of commit 50daf84,
before the file-format hardening; the files are kept so that every later reader is tested on them)."""
import numpy as np

import cyneuron as cn

rng = np.random.default_rng(0)
X = rng.standard_normal((12, 3))
Y2 = rng.standard_normal((12, 2))
out = "tests/data/"

net = cn.Network([3, 4, 2], activation=["tanh", ("leaky_relu", 0.2)], loss="sse", seed=3,
                 dropout=0.25, l2=1e-3)
net.fit(X, Y2, epochs=7, learning_rate=0.01, batch_size=4, optimizer="adam",
        optimizer_params={"beta_1": 0.8})
cn.save(net, out + "v1_adam_f64")

net = cn.Network([3, 3, 1], activation="sigmoid", loss="mse", seed=4, dtype="float32", l1=1e-4)
net.fit(X, (X[:, :1] > 0).astype(float), epochs=5, learning_rate=0.1, optimizer="nesterov")
cn.save(net, out + "v1_nesterov_f32")

net = cn.Network([3, 5, 3], activation="relu", output_activation="softmax",
                 loss="categorical_crossentropy", seed=5, init="he")
net.fit(X, rng.integers(0, 3, 12), epochs=4, learning_rate=0.01, optimizer="rmsprop",
        batch_size=5)
cn.save(net, out + "v1_rmsprop_f64")

net = cn.Network([2, 1], seed=6, init="xavier")
cn.save(net, out + "v1_untrained")
