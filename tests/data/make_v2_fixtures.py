"""Write the version-2 model files in tests/data (run once with the io.py of commit ca05a13,
the last before the model formats were split into codecs, a schema and save/load; the files
are kept so that every later reader and writer is tested on them)."""
import warnings

import numpy as np

import cyneuron as cn

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 3))
y = (X[:, 0] > 0).astype(int)
yr = X @ [1.0, -2.0, 0.5]
out = "tests/data/"

net = cn.Network([3, 5, 1], activation=["relu", "sigmoid"], loss="mse", seed=1)
net.fit(X, y[:, None].astype(float), epochs=3, optimizer="adam", batch_size=8)
cn.save(net, out + "v2_adam_f64.npz")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")     # max_iter=5 does not converge
    clf = cn.MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0,
                           early_stopping=True).fit(X, np.array(["a", "b"])[y])
    reg = cn.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, yr)
cn.save(clf, out + "v2_classifier.npz")
cn.save(reg, out + "v2_regressor.safetensors")
