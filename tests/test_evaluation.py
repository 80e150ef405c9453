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


# --------------------------------------------------------------------------- library oracles

def _scipy_rng_kwarg(seed):
    import scipy

    major_minor = tuple(int(part) for part in scipy.__version__.split(".")[:2])
    # scipy 1.15 renamed random_state to rng; both take a numpy Generator
    return {"rng": np.random.default_rng(seed)} if major_minor >= (1, 15) else {"random_state": np.random.default_rng(seed)}


@pytest.mark.parametrize("n, confidence, seed", [(300, 0.95, 5), (57, 0.9, 11), (1000, 0.99, 2)])
def test_bootstrap_ci_equals_scipy_percentile_bootstrap(n, confidence, seed):
    """Same Generator, same resample indices: scipy.stats.bootstrap (percentile, paired) must give
    the very same interval, so any slip in resampling or quantiles shows up."""
    from scipy import stats

    rng = np.random.default_rng(seed + 100)
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.8, y, (y + 1) % 3)
    ours = ev.bootstrap_ci(y, pred, n_resamples=2000, confidence=confidence, seed=seed)
    theirs = stats.bootstrap((y, pred), lambda a, b, axis=-1: np.mean(a == b, axis=axis), paired=True,
                             vectorized=True, n_resamples=2000, confidence_level=confidence,
                             method="percentile", **_scipy_rng_kwarg(seed)).confidence_interval
    assert ours.low == pytest.approx(theirs.low, abs=1e-12)
    assert ours.high == pytest.approx(theirs.high, abs=1e-12)


@pytest.mark.parametrize("n_bins", [3, 10, 15])
def test_reliability_bins_equal_sklearn_calibration_curve(n_bins):
    """scikit-learn's uniform calibration curve gives the per-bin accuracy and mean confidence of
    the non-empty bins; the ECE follows from them and the bin counts."""
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(n_bins)
    confidence = rng.beta(5, 2, 2000)  # continuous: no value sits on a bin edge, where conventions differ
    correct = (rng.random(2000) < confidence ** 1.5).astype(int)  # over-confident on purpose
    bins = ev.reliability_bins(confidence, correct, n_bins=n_bins)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
    filled = bins.count > 0
    np.testing.assert_allclose(bins.accuracy[filled], accuracy, rtol=0, atol=1e-12)
    np.testing.assert_allclose(bins.mean_confidence[filled], mean_confidence, rtol=0, atol=1e-12)
    counts = np.histogram(confidence, bins=np.linspace(0, 1, n_bins + 1))[0]
    ece_from_sklearn = np.sum(counts[counts > 0] / counts.sum() * np.abs(accuracy - mean_confidence))
    assert bins.ece() == pytest.approx(ece_from_sklearn, abs=1e-12)
    assert bins.ece() > 0.02  # the data were built over-confident, so the check is not vacuous


def test_per_class_accuracy_equals_sklearn_recall_per_class_with_missing_class():
    from sklearn.metrics import recall_score

    y_true = np.array([0, 0, 1, 1, 1, 3, 3, 3, 3])
    y_pred = np.array([0, 1, 1, 1, 0, 3, 2, 3, 0])
    ours = ev.per_class_accuracy(y_true, y_pred, n_classes=4)
    theirs = recall_score(y_true, y_pred, labels=[0, 1, 3], average=None)
    np.testing.assert_allclose(ours[[0, 1, 3]], theirs)
    assert np.isnan(ours[2])  # class 2 never occurs, so it has no recall
