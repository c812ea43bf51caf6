"""cyneuron._plot: History.plot, plot_decision_boundary and the CLI's --plot, rendered with Agg.

Oracle: the figures' artists (lines, labels, contours) read back from matplotlib.
"""
import os
import pathlib
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import cyneuron as cn  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == PNG
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def blobs(n=90):
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [1.5, 2.5]])
    k = np.arange(n) % 3
    return centres[k] + 0.6 * rng.normal(size=(n, 2)), k


def test_history_plot_holds_the_curves(tmp_path):
    X, k = blobs()
    Y = np.eye(3)[k]
    net = cn.Network([2, 8, 3], activation="relu", output_activation="softmax",
                     loss="categorical_crossentropy", seed=0)
    perm = np.random.default_rng(1).permutation(len(X))
    h = net.fit(X[perm], Y[perm], epochs=30, learning_rate=0.05, optimizer="adam",
                batch_size=16, validation_split=0.2)
    fig = h.plot(tmp_path / "history.png")
    assert png_size(tmp_path / "history.png") == (1000, 360)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "loss" and acc_ax.get_title() == "accuracy"
    (train, val) = loss_ax.get_lines()
    assert list(train.get_xdata()) == list(range(1, 31))
    assert np.asarray(train.get_ydata()).tobytes() == np.asarray(h["loss"]).tobytes()
    assert np.asarray(val.get_ydata()).tobytes() == np.asarray(h["val_loss"]).tobytes()
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["training",
                                                                        "validation"]
    acc = acc_ax.get_lines()[0].get_ydata()
    assert np.asarray(acc).tobytes() == np.asarray(h["accuracy"]).tobytes()
    assert h["loss"][-1] < h["loss"][0]


def test_decision_boundary_of_an_estimator(tmp_path):
    X, k = blobs()
    y = np.array(["left", "right", "top"])[k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = cn.MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0,
                               learning_rate_init=0.01).fit(X, y)
    fig = cn.plot_decision_boundary(clf, X, y, tmp_path / "regions.png", resolution=50)
    assert png_size(tmp_path / "regions.png") == (550, 450)
    ax = fig.axes[0]
    assert ax.get_title() == "decision regions"
    points = ax.collections[-4]          # the samples; then one empty handle per class
    assert points.get_offsets().data.tobytes() == X.tobytes()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["left", "right", "top"]
    # the regions are the classifier's predictions on the grid
    regions = ax.collections[0]
    assert len(regions.get_paths()) >= 3
    xs = np.linspace(X[:, 0].min() - 0.3, X[:, 0].max(), 5)
    assert set(clf.predict(np.column_stack([xs, np.zeros(5)]))) <= {"left", "right", "top"}


def test_decision_boundary_of_a_network_and_a_regressor(tmp_path):
    X, k = blobs()
    y = (k == 1).astype(float)[:, None]
    net = cn.Network([2, 6, 1], activation="tanh", output_activation="sigmoid",
                     loss="binary_crossentropy", seed=0)
    net.fit(X, y, epochs=200, learning_rate=0.5)
    fig = cn.plot_decision_boundary(net, X, y, resolution=40)
    assert fig.axes[0].get_title() == "decision regions"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = cn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(
            X, X[:, 0])
    fig = cn.plot_decision_boundary(reg, X, X[:, 0], tmp_path / "surface.png", resolution=30)
    assert fig.axes[0].get_title() == "prediction surface" and len(fig.axes) == 2
    png_size(tmp_path / "surface.png")


@pytest.mark.parametrize("bad, match", [
    ({"X": np.zeros((5, 3))}, "X must have shape"),
    ({"y": np.zeros(4)}, "y has 4 rows"),
    ({"resolution": 1}, "resolution"),
])
def test_decision_boundary_rejects_bad_input(bad, match):
    X, k = blobs(12)
    net = cn.Network([2, 3], activation="softmax", loss="categorical_crossentropy", seed=0)
    args = {"X": X, "y": k, "resolution": 10, **bad}
    with pytest.raises(ValueError, match=match):
        cn.plot_decision_boundary(net, args["X"], args["y"], resolution=args["resolution"])
    with pytest.raises(ValueError, match="model must take 2 inputs"):
        cn.plot_decision_boundary(cn.Network([3, 2], seed=0), X, k)


def test_cli_plot(tmp_path):
    X, k = blobs(60)
    with open(tmp_path / "d.csv", "w") as f:
        f.write("u,v,kind\n")
        for (a, b), c in zip(X, k):
            f.write(f"{a},{b},{'abc'[c]}\n")
    src = pathlib.Path(cn.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(src), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-m", "cyneuron", "train", "d.csv", "--target",
                           "kind", "--epochs", "20", "--validation-split", "0.2", "--plot",
                           "loss.png", "-o", "m"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "wrote loss.png" in proc.stdout
    # three panels: the training loss, and --validation-split's rows scored after
    # every epoch (val_accuracy, val_log_loss)
    assert png_size(tmp_path / "loss.png") == (1500, 360)
