"""Tests of course_utils.evaluation against hand-worked cases and scikit-learn."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import evaluation as ev


def test_per_class_accuracy_hand_case():
    acc = ev.per_class_accuracy([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 1], n_classes=4)
    np.testing.assert_allclose(acc[:3], [2 / 3, 1 / 2, 0.0])
    assert np.isnan(acc[3]), "a class with no examples has no accuracy"


def test_per_class_accuracy_equals_sklearn_recall():
    from sklearn.metrics import recall_score

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 5, 300))
    np.testing.assert_allclose(ev.per_class_accuracy(y_true, y_pred, 5),
                               recall_score(y_true, y_pred, average=None, labels=range(5)))


@pytest.mark.parametrize("kwargs, word", [
    (dict(y_true=[0, 1], y_pred=[0]), "same length"),
    (dict(y_true=[0, 5], y_pred=[0, 1], n_classes=3), "y_true labels"),
    (dict(y_true=[], y_pred=[]), "empty"),
    (dict(y_true=[0, 1], y_pred=[0, 1], n_classes=0), "n_classes"),
])
def test_per_class_accuracy_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ev.per_class_accuracy(**kwargs)


def test_reliability_bins_hand_case():
    bins = ev.reliability_bins([0.1, 0.3, 0.35, 0.9, 1.0], [0, 1, 0, 1, 1], n_bins=4)
    assert bins.count.tolist() == [1, 2, 0, 2]
    np.testing.assert_allclose(bins.mean_confidence[[0, 1, 3]], [0.1, 0.325, 0.95])
    np.testing.assert_allclose(bins.accuracy[[0, 1, 3]], [0.0, 0.5, 1.0])
    assert np.isnan(bins.accuracy[2])
    expected_ece = (1 * 0.1 + 2 * 0.175 + 2 * 0.05) / 5
    assert bins.ece() == pytest.approx(expected_ece)
    assert ev.expected_calibration_error([0.1, 0.3, 0.35, 0.9, 1.0], [0, 1, 0, 1, 1], 4) == pytest.approx(expected_ece)
    frame = bins.as_frame()
    assert list(frame.columns) == ["bin_low", "bin_high", "count", "mean_confidence", "accuracy", "gap"]
    assert len(frame) == 4


def test_ece_zero_when_confidence_matches_accuracy():
    # 10 predictions at 0.7 confidence, 7 right; 10 at 0.2, 2 right
    conf = [0.7] * 10 + [0.2] * 10
    correct = [1] * 7 + [0] * 3 + [1] * 2 + [0] * 8
    assert ev.expected_calibration_error(conf, correct) == pytest.approx(0.0, abs=1e-12)


def test_ece_of_overconfident_model_is_the_gap():
    assert ev.expected_calibration_error([0.99] * 100, [1] * 60 + [0] * 40) == pytest.approx(0.39)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60),
       st.integers(1, 20))
def test_ece_bounded_and_counts_add_up(pairs, n_bins):
    conf = [p[0] for p in pairs]
    correct = [p[1] for p in pairs]
    bins = ev.reliability_bins(conf, correct, n_bins)
    assert bins.count.sum() == len(pairs)
    assert 0.0 <= bins.ece() <= 1.0


@pytest.mark.parametrize("conf, correct, word", [
    ([1.2, 0.5], [1, 0], "confidence must lie"),
    ([0.2, 0.5], [2, 0], "correct must hold"),
    ([0.2], [1, 0], "same length"),
])
def test_reliability_bins_rejects_bad_input(conf, correct, word):
    with pytest.raises(ValueError, match=word):
        ev.reliability_bins(conf, correct)


def test_bootstrap_ci_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 2, 400)
    y_pred = np.where(rng.random(400) < 0.8, y_true, 1 - y_true)
    a = ev.bootstrap_ci(y_true, y_pred, n_resamples=500, seed=7)
    b = ev.bootstrap_ci(y_true, y_pred, n_resamples=500, seed=7)
    assert a == b, "same seed, same interval"
    assert a.low < a.estimate < a.high
    assert a.estimate == pytest.approx(np.mean(y_true == y_pred))
    # the normal approximation sqrt(p(1-p)/n) gives a half-width close to the bootstrap one
    p = a.estimate
    normal_half_width = 1.96 * np.sqrt(p * (1 - p) / 400)
    assert (a.high - a.low) / 2 == pytest.approx(normal_half_width, rel=0.2)
    assert "95% CI" in str(a)


def test_bootstrap_ci_narrows_with_more_data():
    rng = np.random.default_rng(0)

    def width(n):
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < 0.75, y, 1 - y)
        ci = ev.bootstrap_ci(y, pred, n_resamples=400, seed=1)
        return ci.high - ci.low

    assert width(4000) < width(100) / 3


def test_bootstrap_ci_custom_metric():
    from sklearn.metrics import f1_score

    y = np.array([0, 1] * 50)
    pred = np.array([0, 1] * 40 + [1, 0] * 10)
    ci = ev.bootstrap_ci(y, pred, metric=f1_score, n_resamples=200, seed=0)
    assert ci.estimate == pytest.approx(f1_score(y, pred))


@pytest.mark.parametrize("kwargs, word", [
    (dict(confidence=1.5), "confidence"),
    (dict(n_resamples=3), "n_resamples"),
])
def test_bootstrap_ci_rejects_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        ev.bootstrap_ci([0, 1, 1], [0, 1, 0], **kwargs)
