"""Evaluation helpers reused by several chapters: per-class accuracy, calibration, bootstrap.

Chapter 05 derives each of these by hand first and then uses the function here, so later
chapters (deployment, fairness, the capstone) can call one tested version. Pure NumPy; no
TensorFlow import.

>>> per_class_accuracy([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2).tolist()
[0.5, 1.0]
>>> round(expected_calibration_error([0.9, 0.9, 0.6, 0.6], [1, 1, 1, 0], n_bins=5), 3)
0.1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .validation import check_1d, check_int


# --------------------------------------------------------------------------- validation
def _same_length(a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    if len(a) != len(b):
        raise ValueError(f"{a_name} and {b_name} must have the same length, got {len(a)} and {len(b)}")


# --------------------------------------------------------------------------- per class
def per_class_accuracy(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Share of the examples of each true class that were predicted correctly (= per-class recall).

    Returns a float array of length ``n_classes`` (default: ``max label + 1``); a class with no
    examples in ``y_true`` gets ``nan`` (there is nothing to be right about).

    Taught in: notebooks/04_cifar10_cnn.ipynb

    >>> per_class_accuracy([0, 1, 1, 2], [0, 1, 0, 2]).tolist()
    [1.0, 0.5, 1.0]
    """
    y_true = check_1d("y_true", y_true, allow_empty=False).astype(int)
    y_pred = check_1d("y_pred", y_pred, allow_empty=False).astype(int)
    _same_length("y_true", y_true, "y_pred", y_pred)
    if n_classes is None:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    n_classes = check_int("n_classes", n_classes, low=1)
    if y_true.min() < 0 or y_true.max() >= n_classes:
        raise ValueError(f"y_true labels must be in [0, {n_classes - 1}] for n_classes={n_classes}, "
                         f"got range [{y_true.min()}, {y_true.max()}]")
    totals = np.bincount(y_true, minlength=n_classes).astype(float)
    hits = np.bincount(y_true[y_true == y_pred], minlength=n_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)


# --------------------------------------------------------------------------- calibration
@dataclass
class ReliabilityBins:
    """Confidence split into equal-width bins: what the model claimed and how often it was right.

    ``edges`` has ``n_bins + 1`` entries; ``count``, ``mean_confidence`` and ``accuracy`` have
    ``n_bins`` (``nan`` for empty bins).
    """

    edges: np.ndarray
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """``accuracy - mean_confidence`` per bin: negative means over-confident."""
        return self.accuracy - self.mean_confidence

    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean of ``|gap|`` over non-empty bins."""
        filled = self.count > 0
        if not filled.any():
            return float("nan")
        weights = self.count[filled] / self.count[filled].sum()
        return float(np.sum(weights * np.abs(self.gap[filled])))

    def as_frame(self):
        """A pandas DataFrame, one row per bin (for display)."""
        import pandas as pd

        return pd.DataFrame({
            "bin_low": self.edges[:-1], "bin_high": self.edges[1:], "count": self.count,
            "mean_confidence": self.mean_confidence, "accuracy": self.accuracy, "gap": self.gap,
        })


def reliability_bins(confidence, correct, n_bins: int = 10) -> ReliabilityBins:
    """Bin predictions by ``confidence`` (in [0, 1]) and measure accuracy in each bin.

    ``correct`` is 1/True where the prediction was right. Bins are ``[0, 1/n), [1/n, 2/n), ...``
    with the last one closed at 1.0.

    Taught in: notebooks/05_measuring_models.ipynb

    >>> bins = reliability_bins([0.05, 0.95, 0.95], [0, 1, 0], n_bins=2)
    >>> bins.count.tolist(), bins.accuracy.tolist()
    ([1, 2], [0.0, 0.5])
    """
    confidence = check_1d("confidence", confidence, allow_empty=False).astype(float)
    correct = check_1d("correct", correct, allow_empty=False).astype(float)
    _same_length("confidence", confidence, "correct", correct)
    n_bins = check_int("n_bins", n_bins, low=1)
    if np.isnan(confidence).any() or confidence.min() < 0 or confidence.max() > 1:
        raise ValueError(f"confidence must lie in [0, 1], got range [{np.nanmin(confidence)}, "
                         f"{np.nanmax(confidence)}]; pass probabilities, not logits")
    if not np.isin(correct, (0.0, 1.0)).all():
        raise ValueError("correct must hold only 0/1 or False/True (was the prediction right?)")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=n_bins)
    hit_sum = np.bincount(index, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / np.maximum(count, 1), np.nan)
        accuracy = np.where(count > 0, hit_sum / np.maximum(count, 1), np.nan)
    return ReliabilityBins(edges, count, mean_conf, accuracy)


def expected_calibration_error(confidence, correct, n_bins: int = 10) -> float:
    """ECE (Guo et al., 2017) with ``n_bins`` equal-width bins; 0 means perfectly calibrated.

    >>> expected_calibration_error([1.0, 1.0], [1, 1])
    0.0
    """
    return reliability_bins(confidence, correct, n_bins).ece()


# --------------------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class BootstrapInterval:
    """A point estimate with a percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int

    def __str__(self) -> str:
        return (f"{self.estimate:.4f} ({self.confidence:.0%} CI {self.low:.4f} to {self.high:.4f}, "
                f"{self.n_resamples:,} resamples)")


def accuracy_score(y_true, y_pred) -> float:
    """Share of labels predicted correctly."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def bootstrap_ci(y_true, y_pred, metric: Callable = accuracy_score, n_resamples: int = 2000,
                 confidence: float = 0.95, seed: int = 0) -> BootstrapInterval:
    """Percentile bootstrap interval of ``metric(y_true, y_pred)`` over the test examples.

    Resamples the test set with replacement ``n_resamples`` times (seeded), recomputes the
    metric and takes the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles. It
    measures the uncertainty that comes from having a finite test set, not from training.

    Taught in: notebooks/05_measuring_models.ipynb

    >>> ci = bootstrap_ci([1] * 90 + [0] * 10, [1] * 100, n_resamples=500, seed=1)
    >>> ci.estimate, ci.low < 0.9 < ci.high
    (0.9, True)
    """
    y_true = check_1d("y_true", y_true, allow_empty=False)
    y_pred = check_1d("y_pred", y_pred, allow_empty=False)
    _same_length("y_true", y_true, "y_pred", y_pred)
    n_resamples = check_int("n_resamples", n_resamples, low=10)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), e.g. 0.95, got {confidence!r}")
    rng = np.random.default_rng(seed)
    n = len(y_true)
    scores = np.empty(n_resamples)
    for i in range(n_resamples):
        idx = rng.integers(0, n, n)
        scores[i] = metric(y_true[idx], y_pred[idx])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(scores, [alpha, 1.0 - alpha])
    return BootstrapInterval(float(metric(y_true, y_pred)), float(low), float(high), confidence, n_resamples)
