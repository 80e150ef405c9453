"""Unit tests for course_utils.fairness against hand-computed cases and fairlearn."""

import numpy as np
import pandas as pd
import pytest

from course_utils.fairness import (
    apply_group_thresholds,
    demographic_parity_difference,
    equalized_odds_difference,
    equivalence_class_sizes,
    group_metrics,
    k_anonymity,
    laplace_mechanism,
    threshold_for_rate,
)

# group a: y = 1 1 0 0, pred = 1 0 1 0 -> selection 0.5, TPR 0.5, FPR 0.5
# group b: y = 1 1 1 0, pred = 1 1 1 1 -> selection 1.0, TPR 1.0, FPR 1.0
Y_TRUE = np.array([1, 1, 0, 0, 1, 1, 1, 0])
Y_PRED = np.array([1, 0, 1, 0, 1, 1, 1, 1])
GROUPS = np.array(["a"] * 4 + ["b"] * 4)


def test_group_metrics_hand_computed():
    t = group_metrics(Y_TRUE, Y_PRED, GROUPS)
    assert t.loc["a", ["selection_rate", "tpr", "fpr", "accuracy"]].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert t.loc["b", ["selection_rate", "tpr", "fpr", "accuracy", "base_rate"]].tolist() == [1, 1, 1, 0.75, 0.75]
    assert t["n"].tolist() == [4, 4]


def test_differences_hand_computed():
    assert demographic_parity_difference(Y_PRED, GROUPS) == 0.5
    assert equalized_odds_difference(Y_TRUE, Y_PRED, GROUPS) == 0.5
    # TPR equal, FPR differs by 1
    assert equalized_odds_difference([1, 0, 1, 0], [1, 0, 1, 1], ["a", "a", "b", "b"]) == 1.0


def test_matches_fairlearn_on_random_data():
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = rng.integers(0, 2, 500)
    g = rng.choice(["x", "y", "z"], 500)
    assert demographic_parity_difference(p, g) == pytest.approx(
        fairlearn_metrics.demographic_parity_difference(y, p, sensitive_features=g))
    assert equalized_odds_difference(y, p, g) == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(y, p, sensitive_features=g))


def test_bad_inputs():
    with pytest.raises(ValueError, match="y_pred must contain only 0 and 1"):
        demographic_parity_difference([0, 2], ["a", "b"])
    with pytest.raises(ValueError, match="groups must be 1-D"):
        group_metrics([0, 1], [0, 1], ["a"])
    with pytest.raises(ValueError, match="both positive and negative"):
        equalized_odds_difference([1, 1], [1, 0], ["a", "b"])


def test_thresholds():
    assert apply_group_thresholds([0.2, 0.6, 0.2, 0.6], ["a", "a", "b", "b"],
                                  {"a": 0.5, "b": 0.1}).tolist() == [0, 1, 1, 1]
    with pytest.raises(ValueError, match="no entry"):
        apply_group_thresholds([0.2], ["c"], {"a": 0.5})
    scores = np.linspace(0, 1, 101)
    t = threshold_for_rate(scores, 0.3)
    assert abs((scores >= t).mean() - 0.3) <= 1 / 101  # 30.3 examples cannot be selected exactly
    assert (scores >= threshold_for_rate(scores, 0.0)).sum() == 0


def test_k_anonymity():
    df = pd.DataFrame({"age": [31, 35, 31, 44, 44, 44], "sex": ["F", "M", "F", "M", "M", "M"],
                       "diagnosis": ["x", "y", "z", "x", "x", "x"]})
    assert k_anonymity(df, ["age", "sex"]) == 1  # the 35-year-old man is unique
    banded = df.assign(age=pd.cut(df["age"], [30, 40, 50]).astype(str))
    assert k_anonymity(banded, ["age"]) == 3
    assert equivalence_class_sizes(banded, ["age", "sex"]).sort_values().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="not columns"):
        k_anonymity(df, ["zip"])


def test_laplace_mechanism_scale():
    rng = np.random.default_rng(1)
    noisy = laplace_mechanism(np.full(200_000, 50.0), epsilon=0.5, rng=rng)
    err = noisy - 50.0
    # Laplace(b): mean |X| = b, variance 2 b^2, with b = 1 / 0.5 = 2
    assert np.mean(np.abs(err)) == pytest.approx(2.0, rel=0.02)
    assert np.var(err) == pytest.approx(8.0, rel=0.03)
    assert abs(np.mean(err)) < 0.05
    with pytest.raises(ValueError, match="epsilon"):
        laplace_mechanism([1], epsilon=0)
    with pytest.raises(ValueError, match="sensitivity"):
        laplace_mechanism([1], epsilon=1, sensitivity=-1)
