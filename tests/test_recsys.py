"""Unit tests for course_utils.recsys, and for chapter 07's own ranking metrics and A/B test
(defined in the notebook, loaded from its cells), against hand-computed cases."""

import math

import numpy as np
import pytest
from lesson_code import lesson_functions

from course_utils import recsys
from course_utils.recsys import LOG_COLUMNS, UserSimulator, gini, pseudonymise, sample_size_per_group, top_k_unseen

precision_at_k, recall_at_k, ndcg_at_k, mean_ranking_metrics, two_proportion_test = lesson_functions(
    "07_users_personalisation.ipynb", "precision_at_k", "recall_at_k", "ndcg_at_k", "mean_ranking_metrics",
    "two_proportion_test").values()


def test_ranking_metrics_hand_computed():
    recommended = ["a", "b", "c", "d"]
    relevant = {"b", "d", "z"}
    assert precision_at_k(recommended, relevant, 2) == 0.5
    assert precision_at_k(recommended, relevant, 4) == 0.5
    assert recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    # hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal has 3 hits at ranks 1-3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(recommended, relevant, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["b", "d"], {"b", "d"}, 2) == pytest.approx(1.0)
    # precision divides by k even when the list is shorter than k
    assert precision_at_k(["b"], relevant, 2) == 0.5


def test_ranking_metric_errors():
    with pytest.raises(ValueError, match="k must be"):
        precision_at_k(["a"], {"a"}, 0)
    with pytest.raises(ValueError, match="no relevant"):
        recall_at_k(["a"], set(), 1)
    with pytest.raises(ValueError, match="repeat"):
        ndcg_at_k(["a", "a"], {"a"}, 2)


def test_mean_ranking_metrics_skips_users_without_relevant_items():
    out = mean_ranking_metrics({1: ["a", "b"], 2: ["c", "d"], 3: ["x", "y"]},
                               {1: {"a"}, 2: {"d"}, 3: set()}, k=2)
    assert out["users"] == 2
    assert out["precision@2"] == pytest.approx(0.5)
    assert out["recall@2"] == pytest.approx(1.0)
    assert out["ndcg@2"] == pytest.approx((1 + 1 / math.log2(3)) / 2)


def test_top_k_unseen_excludes_and_orders():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [0.4, 0.3, 0.2, 0.1]])
    assert top_k_unseen(scores, 2, exclude={0: [1]}).tolist() == [[3, 2], [0, 1]]


def test_simulator_is_seeded_and_documented():
    a = UserSimulator(n_users=30, n_items=12, seed=3).simulate_log(n_days=2, slate_size=4)
    b = UserSimulator(n_users=30, n_items=12, seed=3).simulate_log(n_days=2, slate_size=4)
    assert a.equals(b)
    assert list(a.columns) == list(LOG_COLUMNS)
    assert len(a) == 30 * 2 * 4
    assert set(a["clicked"].unique()) <= {0, 1}
    # a random slate never repeats an item for a user on a day
    assert not a.duplicated(["account_id", "day", "item_id"]).any()


def test_simulator_position_and_popularity_bias():
    sim = UserSimulator(n_users=2000, n_items=50, seed=0, position_decay=1.0)
    log = sim.simulate_log(n_days=3, slate_size=10, policy="random")
    by_position = log.groupby("position")["clicked"].mean()
    assert by_position.iloc[0] > 2 * by_position.iloc[9]  # examination 1 vs 1/10
    # items with higher hidden popularity are clicked more often
    item_ctr = log.groupby("item_id")["clicked"].mean()
    corr = np.corrcoef(sim.item_popularity[item_ctr.index], item_ctr.to_numpy())[0, 1]
    assert corr > 0.5
    # without position bias every slot is examined
    flat = UserSimulator(n_users=10, n_items=5, position_decay=0.0)
    assert np.allclose(flat.examination(np.arange(5)), 1.0)


def test_simulator_rejects_bad_input():
    with pytest.raises(ValueError, match="n_items"):
        UserSimulator(n_items=1)
    with pytest.raises(ValueError, match="position_decay"):
        UserSimulator(position_decay=-1)
    with pytest.raises(ValueError, match="slate_size"):
        UserSimulator(n_users=2, n_items=3).simulate_log(slate_size=5)
    with pytest.raises(ValueError, match="policy"):
        UserSimulator(n_users=2, n_items=3).simulate_log(slate_size=2, policy="best")


def test_pseudonymise_is_keyed_and_stable():
    salt = "0123456789abcdef"
    ids = ["acct-1", "acct-2", "acct-1"]
    out = pseudonymise(ids, salt)
    assert out[0] == out[2] and out[0] != out[1]
    assert pseudonymise(ids, salt + "x")[0] != out[0]
    import hashlib
    import hmac
    assert out[0] == hmac.new(salt.encode(), b"acct-1", hashlib.sha256).hexdigest()[:16]
    with pytest.raises(ValueError, match="salt"):
        pseudonymise(ids, "short")


def test_two_proportion_test_hand_computed():
    r = two_proportion_test(100, 1000, 130, 1000)
    pooled = 230 / 2000
    z = 0.03 / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert r.z == pytest.approx(z)
    assert r.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    se = math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    assert r.ci_low == pytest.approx(0.03 - 1.959964 * se, abs=1e-6)
    assert r.relative_lift == pytest.approx(0.3)
    with pytest.raises(ValueError, match="successes_a"):
        two_proportion_test(11, 10, 1, 10)


def test_two_proportion_test_matches_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    r = two_proportion_test(420, 5000, 480, 5100)
    z, p = proportions_ztest([480, 420], [5100, 5000])
    assert r.z == pytest.approx(z) and r.p_value == pytest.approx(p)
    low, high = confint_proportions_2indep(480, 5100, 420, 5000, method="wald")
    assert (r.ci_low, r.ci_high) == pytest.approx((low, high))


def test_sample_size_formula_and_statsmodels():
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    assert sample_size_per_group(0.10, 0.02) == 3841  # worked by hand in the docstring
    h = proportion_effectsize(0.12, 0.10)
    n_sm = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8)
    assert sample_size_per_group(0.10, 0.02, method="arcsine") == math.ceil(n_sm)
    assert sample_size_per_group(0.10, 0.01) > 3 * sample_size_per_group(0.10, 0.02)
    with pytest.raises(ValueError, match="min_detectable_effect"):
        sample_size_per_group(0.10, 0.0)


def test_gini():
    assert gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert recsys.gini([1, 2, 3]) == pytest.approx(2 / 9)


# --------------------------------------------------------------------------- library oracles

def _as_vectors(recommended, relevant, n_items):
    """A ranked list as scikit-learn's score vector (strictly decreasing over the list, lower for
    the rest) and the relevant set as a 0/1 relevance vector."""
    scores = np.zeros(n_items)
    for rank, item in enumerate(recommended):
        scores[item] = len(recommended) - rank
    truth = np.zeros(n_items)
    truth[list(relevant)] = 1
    return truth, scores


@pytest.mark.parametrize("seed", range(6))
def test_ranking_metrics_equal_sklearn(seed):
    from sklearn.metrics import ndcg_score, precision_score, recall_score

    rng = np.random.default_rng(seed)
    n_items = 40
    recommended = list(rng.permutation(n_items)[:10])
    relevant = set(rng.choice(n_items, size=int(rng.integers(1, 15)), replace=False).tolist())
    truth, scores = _as_vectors(recommended, relevant, n_items)
    for k in (1, 3, 5, 10):
        flagged = np.zeros(n_items, dtype=int)
        flagged[recommended[:k]] = 1
        assert ndcg_at_k(recommended, relevant, k) == pytest.approx(
            ndcg_score(truth[None], scores[None], k=k), abs=1e-12)
        assert precision_at_k(recommended, relevant, k) == pytest.approx(precision_score(truth, flagged))
        assert recall_at_k(recommended, relevant, k) == pytest.approx(recall_score(truth, flagged))
