"""Group-fairness metrics, per-group thresholds, k-anonymity and the Laplace mechanism (chapter 08).

Everything is plain NumPy/pandas, so a learner can check each number by hand. The chapter
cross-checks the group metrics against ``fairlearn``.

What these numbers do *not* say: a small demographic-parity or equalised-odds difference on
one test set is not a proof that a system is fair (the groups, the labels and the chosen
criterion are all choices, and the common criteria cannot all hold at once when base rates
differ); k-anonymity does not stop an attacker learning a sensitive value shared by a whole
group; differential privacy bounds what one person changes, not every harm.

>>> y_true = [1, 0, 1, 0]; y_pred = [1, 1, 0, 0]; groups = ["a", "a", "b", "b"]
>>> demographic_parity_difference(y_pred, groups)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .validation import check_1d, check_real


def _as_binary(name: str, values) -> np.ndarray:
    arr = check_1d(name, values)
    if arr.dtype == bool:
        return arr.astype(int)
    if not np.isin(arr, [0, 1]).all():
        bad = arr[~np.isin(arr, [0, 1])][:3]
        raise ValueError(f"{name} must contain only 0 and 1 (or booleans), found e.g. {bad.tolist()}")
    return arr.astype(int)


def _as_groups(groups, n: int) -> np.ndarray:
    arr = np.asarray(groups)
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"groups must be 1-D with one entry per example ({n}), got shape {arr.shape}")
    return arr


def group_metrics(y_true, y_pred, groups) -> pd.DataFrame:
    """Per-group count, base rate, selection rate, TPR, FPR and accuracy.

    selection rate = P(pred = 1 | group); TPR = P(pred = 1 | y = 1, group);
    FPR = P(pred = 1 | y = 0, group). A rate with no examples to divide by is NaN.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> t = group_metrics([1, 0, 1, 0], [1, 1, 0, 0], ["a", "a", "b", "b"])
    >>> [float(t.loc[g, c]) for g, c in [("a", "selection_rate"), ("b", "tpr"), ("a", "fpr")]]
    [1.0, 0.0, 1.0]
    """
    y_true = _as_binary("y_true", y_true)
    y_pred = _as_binary("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}")
    groups = _as_groups(groups, len(y_true))
    rows = {}
    for g in pd.unique(groups):
        m = groups == g
        yt, yp = y_true[m], y_pred[m]
        pos, neg = yt == 1, yt == 0
        rows[g] = {
            "n": int(m.sum()),
            "base_rate": float(yt.mean()),
            "selection_rate": float(yp.mean()),
            "tpr": float(yp[pos].mean()) if pos.any() else math.nan,
            "fpr": float(yp[neg].mean()) if neg.any() else math.nan,
            "accuracy": float((yp == yt).mean()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table.sort_index()


def demographic_parity_difference(y_pred, groups) -> float:
    """Largest minus smallest selection rate across groups (0 = equal selection rates).

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> demographic_parity_difference([1, 0, 1, 1], ["a", "a", "b", "b"])
    0.5
    """
    y_pred = _as_binary("y_pred", y_pred)
    groups = _as_groups(groups, len(y_pred))
    rates = pd.Series(y_pred).groupby(groups).mean()
    return float(rates.max() - rates.min())


def equalized_odds_difference(y_true, y_pred, groups) -> float:
    """The larger of the TPR gap and the FPR gap across groups (fairlearn's definition).

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 1, 1], ["a", "a", "b", "b"])
    1.0
    """
    table = group_metrics(y_true, y_pred, groups)
    gaps = [table[col].max() - table[col].min() for col in ("tpr", "fpr")]
    if any(math.isnan(g) for g in gaps):
        raise ValueError("every group needs both positive and negative examples for equalised odds")
    return float(max(gaps))


def apply_group_thresholds(scores, groups, thresholds: Mapping) -> np.ndarray:
    """1 where ``scores >= thresholds[group]``, else 0.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> apply_group_thresholds([0.4, 0.6, 0.4], ["a", "a", "b"], {"a": 0.5, "b": 0.3}).tolist()
    [0, 1, 1]
    """
    scores = np.asarray(scores, dtype=float)
    groups = _as_groups(groups, len(scores))
    missing = set(pd.unique(groups)) - set(thresholds)
    if missing:
        raise ValueError(f"thresholds has no entry for groups {sorted(map(str, missing))}")
    cut = np.array([thresholds[g] for g in groups], dtype=float)
    return (scores >= cut).astype(int)


def threshold_for_rate(scores, target_rate: float) -> float:
    """A threshold that selects (about) ``target_rate`` of ``scores`` (ties may shift it slightly).

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> threshold_for_rate([0.1, 0.2, 0.3, 0.4], 0.5)
    0.3
    """
    if not 0 <= target_rate <= 1:
        raise ValueError(f"target_rate must be in [0, 1], got {target_rate!r}")
    scores = np.sort(np.asarray(scores, dtype=float))[::-1]
    if scores.size == 0:
        raise ValueError("scores must not be empty")
    n_select = int(round(target_rate * scores.size))
    if n_select == 0:
        return float(np.nextafter(scores[0], np.inf))
    return float(scores[n_select - 1])


# --------------------------------------------------------------------------- privacy
def equivalence_class_sizes(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> pd.Series:
    """How many rows share each combination of the quasi-identifier columns.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb
    """
    quasi_identifiers = list(quasi_identifiers)
    if not quasi_identifiers:
        raise ValueError("quasi_identifiers must name at least one column")
    missing = [c for c in quasi_identifiers if c not in table.columns]
    if missing:
        raise ValueError(f"quasi_identifiers {missing} are not columns of the table ({list(table.columns)})")
    return table.groupby(quasi_identifiers, observed=True).size().rename("rows")


def k_anonymity(table: pd.DataFrame, quasi_identifiers: Sequence[str]) -> int:
    """The k for which ``table`` is k-anonymous: the size of the smallest equivalence class.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> df = pd.DataFrame({"age": [30, 30, 40], "zip": ["a", "a", "b"]})
    >>> k_anonymity(df, ["age", "zip"])
    1
    """
    if len(table) == 0:
        raise ValueError("table is empty")
    return int(equivalence_class_sizes(table, quasi_identifiers).min())


def laplace_mechanism(true_values, epsilon: float, sensitivity: float = 1.0,
                      rng: np.random.Generator | None = None) -> np.ndarray:
    """``true_values`` plus Laplace noise of scale ``sensitivity / epsilon`` (epsilon-DP for that query).

    For a count, one person changes the answer by at most 1, so ``sensitivity=1``. The expected
    absolute error is ``sensitivity / epsilon``: smaller epsilon, more privacy, more noise.

    Taught in: notebooks/08_trust_fairness_privacy.ipynb

    >>> noisy = laplace_mechanism([100, 200], epsilon=1.0, rng=np.random.default_rng(0))
    >>> noisy.shape
    (2,)
    """
    check_real("epsilon", epsilon, low=0, include_boundaries="right", finite=True, hint="e.g. 0.1 to 10")
    if not isinstance(sensitivity, (int, float, np.floating)) or not math.isfinite(sensitivity) or sensitivity <= 0:
        raise ValueError(f"sensitivity must be a finite number > 0 (1 for a count), got {sensitivity!r}")
    rng = rng if rng is not None else np.random.default_rng()
    values = np.asarray(true_values, dtype=float)
    return values + rng.laplace(0.0, sensitivity / epsilon, size=values.shape)
