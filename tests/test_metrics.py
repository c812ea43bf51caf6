"""cyneuron.metrics: accuracy, precision/recall/F1 and the confusion matrix.

Oracles: counts worked out by hand, and scikit-learn's metrics on random labels; the
refusals name the argument (two of them returned a wrong number silently before).
"""
import numpy as np
import pytest

import cyneuron as cn


def test_metrics_against_hand_counts():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    cm = cn.metrics.confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert cn.metrics.accuracy(y_true, y_pred) == 4 / 6
    p, r, f = cn.metrics.precision_recall_f1(y_true, y_pred, "macro", 3)
    assert p == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    assert r == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    pb, rb, fb = cn.metrics.precision_recall_f1([0, 1, 1, 0], [1, 1, 0, 0], "binary")
    assert (pb, rb, fb) == (0.5, 0.5, 0.5)


def test_metrics_agree_with_scikit_learn_on_random_labels():
    from sklearn import metrics as skm
    rng = np.random.default_rng(0)
    for n_classes in (2, 3, 7):
        for n in (1, 5, 200):
            t, p = rng.integers(0, n_classes, n), rng.integers(0, n_classes, n)
            labels = list(range(n_classes))
            assert cn.metrics.accuracy(t, p) == skm.accuracy_score(t, p)
            assert (cn.metrics.confusion_matrix(t, p, n_classes)
                    == skm.confusion_matrix(t, p, labels=labels)).all()
            sk = skm.precision_recall_fscore_support(t, p, labels=labels, average="macro",
                                                     zero_division=0)[:3]
            assert cn.metrics.precision_recall_f1(t, p, "macro", n_classes) == pytest.approx(
                sk, rel=1e-15, abs=0)
            if n_classes == 2:
                sk = skm.precision_recall_fscore_support(t, p, average="binary",
                                                         zero_division=0)[:3]
                assert cn.metrics.precision_recall_f1(t, p, "binary") == pytest.approx(
                    sk, rel=1e-15, abs=0)


@pytest.mark.parametrize("call, err, msg", [
    # a column against a vector broadcast to a matrix: 0.5 instead of 1.0, silently
    (lambda m: m.accuracy([0, 1], [[0], [1]]), ValueError, r"y_pred must be a 1-D vector.*\(2, 1\)"),
    (lambda m: m.accuracy([0, 1, 1], [0, 1]), ValueError, "y_true has 3 labels but y_pred has 2"),
    # a negative label counted in the last class (NumPy's negative index), silently
    (lambda m: m.confusion_matrix([0, -1], [0, 1]), ValueError, "y_true must hold class indices >= 0"),
    (lambda m: m.confusion_matrix([0, 1.5], [0, 1]), ValueError, "whole numbers.*1.5"),
    (lambda m: m.confusion_matrix([0, 3], [0, 1], 3), ValueError, "y_true holds class 3, but n_classes is 3"),
    (lambda m: m.confusion_matrix([0, 1], [0, 1], 0), ValueError, "n_classes must be a positive"),
    (lambda m: m.confusion_matrix(["a"], ["b"]), TypeError, "y_true must hold class indices \\(integers\\)"),
    (lambda m: m.precision_recall_f1([0, 1], [0, 1], "micro"), ValueError, "average must be"),
])
def test_bad_labels_are_named(call, err, msg):
    with pytest.raises(err, match=msg):
        call(cn.metrics)
    assert cn.metrics.accuracy(["a", "b"], ["a", "a"]) == 0.5       # any labels that compare
    assert cn.metrics.confusion_matrix([True, False], [1.0, 0.0]).tolist() == [[1, 0], [0, 1]]


def test_to_labels_refuses_what_it_would_truncate():
    assert cn.metrics.to_labels([2.0, 0.0]).tolist() == [2, 0]
    assert cn.metrics.to_labels([[0.7], [0.2]]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="give the probabilities of one output as a column"):
        cn.metrics.to_labels([0.7, 0.2])                 # was [0, 0]
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2\)"):
        cn.metrics.to_labels(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="labels must be integers"):
        cn.metrics.to_labels(["a", "b"])
