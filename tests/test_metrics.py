"""cyneuron.metrics: accuracy, precision/recall/F1 and the confusion matrix.

Oracle: counts worked out by hand.
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
