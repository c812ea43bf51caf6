"""cyneuron._summary: summary(), the Keras-style table of a Network and of a fitted estimator.

Oracle: the table's rows and totals counted by hand.
"""
import re

import numpy as np
import pytest

import cyneuron as cn


def text_of(obj):
    out = []
    obj.summary(print_fn=out.append)
    assert len(out) == 1
    return out[0]


def test_network_summary_rows_and_totals():
    net = cn.Network([4, 8, 3], activation=["relu", "softmax"],
                     loss="categorical_crossentropy", seed=7, dtype="float32", l2=0.01,
                     dropout=[0.25])
    text = text_of(net)
    assert re.search(r"(?m)^input +\(None, 4\) +- +0$", text), text
    assert re.search(r"(?m)^dense_1 +\(None, 8\) +relu \(dropout 0\.25\) +40$", text), text
    assert re.search(r"(?m)^output +\(None, 3\) +softmax +27$", text), text
    assert f"Total params: {net.n_params:,} ({net.n_params * 4:,} bytes)" in text
    assert net.n_params == 67
    assert "dtype: float32" in text and "init seed: 7" in text
    assert "l2=0.01" in text and "optimizer: none yet" in text


def test_summary_follows_the_optimizer_state():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    net = cn.Network([2, 3, 1], activation="tanh", loss="mse", seed=1)
    net.fit(X, y, epochs=3, learning_rate=0.01, batch_size=5, optimizer="adam")
    text = text_of(net)
    assert "optimizer: adam(beta_1=0.9, beta_2=0.999, epsilon=1e-08); 12 update steps" in text
    assert "init seed: 1" in text
    net2 = cn.Network([2, 3, 1], seed=np.random.default_rng(3))
    assert "init seed: not recorded" in text_of(net2)


def test_summary_shows_a_digest_when_there_is_one():
    class WithDigest(cn.Network):
        def digest(self):
            return "sha256:abc123"
    assert "digest: sha256:abc123" in text_of(WithDigest([2, 1], seed=0))
    net = cn.Network([2, 1], seed=0)           # every Network has one
    assert f"digest: {net.digest()}" in text_of(net)


def test_estimator_summary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)]
    clf = cn.MLPClassifier(hidden_layer_sizes=(5,), max_iter=4, random_state=2)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        clf.summary()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    text = text_of(clf)
    assert text.startswith("MLPClassifier (scikit-learn estimator), 4 epochs trained, "
                           "random_state=2")
    assert "classes (2): no, yes" in text
    assert re.search(r"(?m)^output +\(None, 1\) +sigmoid +6$", text), text
    assert f"Total params: {clf.network_.n_params}" in text
