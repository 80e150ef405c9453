"""Recommender-system plumbing for chapter 07: a user simulator, pseudonymisation, a top-k
ranker, the A/B-test sample size (exercise 07 calls it too) and the Gini coefficient.

The ranking metrics and the two-proportion test are the lesson itself, so chapter 07 writes
them out in its own cells (tests/test_recsys.py tests them from there).

Nothing here imports TensorFlow or Keras; the chapter's Keras model lives in the notebook.

The simulator (:class:`UserSimulator`) stands in for real users, whose preferences we never
see. Each user ``u`` and item ``i`` has a hidden factor vector; each item also has a hidden
popularity. A user who *examines* an item clicks it with probability

    relevance(u, i) = sigmoid(base_logit + popularity[i] + taste_scale * <user[u], item[i]>)

and examines the item in slot ``r`` (0 = top) with probability ``1 / (1 + r) ** position_decay``
(position bias: lower slots are seen less often). A click therefore needs both, which is why
logged clicks say as much about *what was shown, and where* as about what users like.

>>> sim = UserSimulator(n_users=20, n_items=15, seed=1)
>>> log = sim.simulate_log(n_days=2, slate_size=5, policy="random")
>>> sorted(LOG_COLUMNS) == sorted(log.columns)
True
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .validation import check_int, check_real

#: Columns of :meth:`UserSimulator.simulate_log`, with their meaning.
LOG_COLUMNS: dict[str, str] = {
    "account_id": "the user's raw account identifier, e.g. 'acct-000042' (personal data)",
    "email": "the user's e-mail address (personal data, never needed by the model)",
    "age": "the user's age in years (quasi-identifier, not needed by the model)",
    "postcode": "the user's 3-digit postcode area (quasi-identifier, not needed by the model)",
    "day": "simulated day, 0, 1, 2, ...",
    "item_id": "integer id of the item shown, 0 .. n_items - 1",
    "position": "slot in the slate where the item was shown, 0 = top",
    "clicked": "1 if the user clicked the item, else 0 (implicit feedback)",
}

#: A policy: ``(simulator, user_indices, day, slate_size, rng) -> (len(user_indices), slate_size)`` item ids.
Policy = Callable[["UserSimulator", np.ndarray, int, int, np.random.Generator], np.ndarray]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- simulator
@dataclass
class UserSimulator:
    """Seeded users with hidden tastes who click (or not) on slates of items.

    Parameters: ``n_users``, ``n_items`` (>= 2), ``n_factors`` (hidden taste dimensions),
    ``taste_scale`` (how much personal taste matters, >= 0), ``popularity_strength`` (spread
    of the hidden item popularity, >= 0), ``position_decay`` (>= 0; 0 means no position bias),
    ``base_logit`` (overall click propensity), ``seed``.

    Taught in: notebooks/07_users_personalisation.ipynb

    >>> sim = UserSimulator(n_users=3, n_items=4, seed=0)
    >>> sim.relevance(np.array([0]), np.array([[0, 1]])).shape
    (1, 2)
    >>> [round(float(p), 3) for p in sim.examination(np.arange(3))]
    [1.0, 0.5, 0.333]
    """

    n_users: int = 1000
    n_items: int = 200
    n_factors: int = 8
    taste_scale: float = 2.5
    popularity_strength: float = 1.0
    position_decay: float = 1.0
    base_logit: float = -2.5
    seed: int = 0
    user_factors: np.ndarray = field(init=False, repr=False)
    item_factors: np.ndarray = field(init=False, repr=False)
    item_popularity: np.ndarray = field(init=False, repr=False)
    profiles: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.n_users = check_int("n_users", self.n_users, low=1)
        self.n_items = check_int("n_items", self.n_items, low=2)
        self.n_factors = check_int("n_factors", self.n_factors, low=1)
        self.seed = check_int("seed", self.seed, low=0)
        self.taste_scale = check_real("taste_scale", self.taste_scale, low=0, finite=True)
        self.popularity_strength = check_real("popularity_strength", self.popularity_strength, low=0, finite=True)
        self.position_decay = check_real("position_decay", self.position_decay, low=0, finite=True)
        if not math.isfinite(self.base_logit):
            raise ValueError(f"base_logit must be finite, got {self.base_logit!r}")
        rng = np.random.default_rng(self.seed)
        scale = 1.0 / math.sqrt(self.n_factors)
        self.user_factors = rng.normal(0.0, 1.0, (self.n_users, self.n_factors))
        self.item_factors = rng.normal(0.0, scale, (self.n_items, self.n_factors))
        self.item_popularity = rng.normal(0.0, self.popularity_strength, self.n_items)
        ids = np.arange(self.n_users)
        self.profiles = pd.DataFrame({
            "account_id": [f"acct-{i:06d}" for i in ids],
            "email": [f"user{i:06d}@example.com" for i in ids],
            "age": rng.integers(18, 80, self.n_users),
            "postcode": rng.choice([f"{p:03d}" for p in range(100, 140)], self.n_users),
        })

    # ----------------------------------------------------------- ground truth (hidden)
    def relevance(self, users, items) -> np.ndarray:
        """Click probability of ``users`` (shape (n,)) on ``items`` (shape (n, k)) if examined."""
        users = np.asarray(users)
        items = np.asarray(items)
        if items.ndim != 2 or items.shape[0] != users.shape[0]:
            raise ValueError(f"items must have shape (len(users), k), got {items.shape} for {users.shape[0]} users")
        taste = np.einsum("nf,nkf->nk", self.user_factors[users], self.item_factors[items])
        return _sigmoid(self.base_logit + self.item_popularity[items] + self.taste_scale * taste)

    def relevance_matrix(self, users=None) -> np.ndarray:
        """Relevance of every item for ``users`` (default: all users), shape (n_users, n_items)."""
        users = np.arange(self.n_users) if users is None else np.asarray(users)
        items = np.broadcast_to(np.arange(self.n_items), (len(users), self.n_items))
        return self.relevance(users, items)

    def examination(self, positions) -> np.ndarray:
        """Probability that a user looks at slot ``positions`` (0 = top)."""
        positions = np.asarray(positions)
        if np.any(positions < 0):
            raise ValueError("positions must be >= 0 (0 is the top slot)")
        return 1.0 / (1.0 + positions) ** self.position_decay

    # ----------------------------------------------------------- behaviour
    def respond(self, users, slates, rng: np.random.Generator) -> np.ndarray:
        """Clicks (0/1, shape of ``slates``) of ``users`` on their ``slates`` (n, k) of item ids."""
        slates = np.asarray(slates)
        if slates.ndim != 2:
            raise ValueError(f"slates must be 2-D (users x slate_size), got shape {slates.shape}")
        if slates.size and (slates.min() < 0 or slates.max() >= self.n_items):
            raise ValueError(f"slates must hold item ids in 0..{self.n_items - 1}")
        p = self.relevance(users, slates) * self.examination(np.arange(slates.shape[1]))[None, :]
        return (rng.random(p.shape) < p).astype(np.int8)

    def run_day(self, slates, day: int, rng: np.random.Generator, users=None) -> pd.DataFrame:
        """Show ``slates`` (one row per user in ``users``, default all) on ``day``; the logged rows."""
        users = np.arange(self.n_users) if users is None else np.asarray(users)
        slates = np.asarray(slates)
        if slates.shape[0] != len(users):
            raise ValueError(f"slates has {slates.shape[0]} rows but there are {len(users)} users")
        clicks = self.respond(users, slates, rng)
        k = slates.shape[1]
        prof = self.profiles.iloc[np.repeat(users, k)].reset_index(drop=True)
        return pd.DataFrame({
            "account_id": prof["account_id"].to_numpy(),
            "email": prof["email"].to_numpy(),
            "age": prof["age"].to_numpy(),
            "postcode": prof["postcode"].to_numpy(),
            "day": np.full(len(prof), day, dtype=np.int64),
            "item_id": slates.reshape(-1).astype(np.int64),
            "position": np.tile(np.arange(k), len(users)).astype(np.int64),
            "clicked": clicks.reshape(-1).astype(np.int64),
        })

    def simulate_log(self, n_days: int = 7, slate_size: int = 10, policy: str | Policy = "random",
                     start_day: int = 0, seed: int | None = None) -> pd.DataFrame:
        """Implicit-feedback log of ``n_days`` days: every user sees one slate a day.

        ``policy`` is ``"random"`` (uniformly random distinct items: good for learning),
        ``"popular"`` (items by hidden popularity, shuffled a little) or a callable
        ``policy(sim, users, day, slate_size, rng)``. Columns: :data:`LOG_COLUMNS`.
        """
        n_days = check_int("n_days", n_days, low=1)
        slate_size = check_int("slate_size", slate_size, low=1)
        if slate_size > self.n_items:
            raise ValueError(f"slate_size={slate_size} cannot exceed n_items={self.n_items}")
        policies = {"random": random_policy, "popular": popular_policy}
        if isinstance(policy, str):
            if policy not in policies:
                raise ValueError(f"policy must be one of {sorted(policies)} or a callable, got {policy!r}")
            policy = policies[policy]
        rng = np.random.default_rng(self.seed + 1 if seed is None else seed)
        users = np.arange(self.n_users)
        frames = [self.run_day(policy(self, users, day, slate_size, rng), day, rng)
                  for day in range(start_day, start_day + n_days)]
        return pd.concat(frames, ignore_index=True)


def random_policy(sim: UserSimulator, users, day: int, slate_size: int, rng: np.random.Generator) -> np.ndarray:
    """Each user gets ``slate_size`` distinct items chosen uniformly at random."""
    keys = rng.random((len(users), sim.n_items))
    return np.argsort(keys, axis=1)[:, :slate_size]


def popular_policy(sim: UserSimulator, users, day: int, slate_size: int, rng: np.random.Generator) -> np.ndarray:
    """Items ranked by hidden popularity plus noise (what a 'trending' page might show)."""
    keys = sim.item_popularity[None, :] + rng.normal(0, 0.5, (len(users), sim.n_items))
    return np.argsort(-keys, axis=1)[:, :slate_size]


def top_k_unseen(scores: np.ndarray, k: int, exclude: Mapping[int, Iterable[int]] | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores per row, skipping ``exclude[row]`` items.

    Taught in: notebooks/07_users_personalisation.ipynb

    >>> top_k_unseen(np.array([[0.1, 0.9, 0.5]]), k=2, exclude={0: [1]}).tolist()
    [[2, 0]]
    """
    scores = np.array(scores, dtype=float, copy=True)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (users x items), got shape {scores.shape}")
    k = check_int("k", k, low=1)
    if k > scores.shape[1]:
        raise ValueError(f"k={k} cannot exceed the number of items {scores.shape[1]}")
    for row, items in (exclude or {}).items():
        scores[row, list(items)] = -np.inf
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


# --------------------------------------------------------------------------- privacy by design
def pseudonymise(ids: Iterable, salt: str | bytes, length: int = 16) -> list[str]:
    """Replace identifiers by a keyed (salted) hash: HMAC-SHA256(salt, id), first ``length`` hex chars.

    The same id and salt always give the same pseudonym, so joins still work; without the salt
    the mapping cannot be recomputed by trying every possible id (ids are easy to enumerate,
    so the salt must be secret and long). This is pseudonymisation, not anonymisation: whoever
    holds the salt can re-identify users, and behaviour itself can identify people.

    Taught in: notebooks/07_users_personalisation.ipynb

    >>> pseudonymise(["acct-1"], salt="s" * 16) == pseudonymise(["acct-1"], salt="s" * 16)
    True
    >>> len(pseudonymise(["acct-1"], salt="s" * 16, length=12)[0])
    12
    """
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not isinstance(salt, bytes) or len(salt) < 16:
        raise ValueError(f"salt must be a secret str/bytes of at least 16 bytes (use secrets.token_hex(16)), "
                         f"got {len(salt) if isinstance(salt, bytes) else type(salt).__name__}")
    length = check_int("length", length, low=8)
    if length > 64:
        raise ValueError(f"length must be between 8 and 64 hex characters, got {length}")
    return [hmac.new(salt, str(i).encode("utf-8"), hashlib.sha256).hexdigest()[:length] for i in ids]


# --------------------------------------------------------------------------- A/B tests
def sample_size_per_group(baseline_rate: float, min_detectable_effect: float, alpha: float = 0.05,
                          power: float = 0.8, method: str = "pooled") -> int:
    """Users needed in *each* arm to detect an absolute lift ``min_detectable_effect`` (two-sided).

    ``method="pooled"`` (the textbook normal approximation):
    n = (z_{1-a/2} sqrt(2 pbar qbar) + z_{power} sqrt(p1 q1 + p2 q2))^2 / delta^2.
    ``method="arcsine"`` (what ``statsmodels`` does with Cohen's h):
    n = 2 ((z_{1-a/2} + z_{power}) / h)^2, h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1))
    (the variance of 2 asin(sqrt(p_hat)) is about 1/n in each arm).

    Taught in: notebooks/07_users_personalisation.ipynb

    >>> sample_size_per_group(0.10, 0.02)
    3841
    """
    from scipy.stats import norm

    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05, got {alpha!r}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), e.g. 0.8, got {power!r}")
    if not 0 < baseline_rate < 1:
        raise ValueError(f"baseline_rate must be in (0, 1), got {baseline_rate!r}")
    p2 = baseline_rate + min_detectable_effect
    if min_detectable_effect == 0 or not 0 < p2 < 1:
        raise ValueError(f"min_detectable_effect must be non-zero and keep baseline_rate + effect in (0, 1), "
                         f"got {min_detectable_effect!r}")
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    p1 = baseline_rate
    if method == "pooled":
        pbar = (p1 + p2) / 2
        n = (z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
        n /= min_detectable_effect ** 2
    elif method == "arcsine":
        h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
        n = 2 * ((z_a + z_b) / h) ** 2
    else:
        raise ValueError(f"method must be 'pooled' or 'arcsine', got {method!r}")
    return int(math.ceil(n))


# --------------------------------------------------------------------------- concentration
def gini(counts) -> float:
    """Gini coefficient of non-negative ``counts`` (0 = equal exposure, -> 1 = one item gets all).

    Taught in: notebooks/07_users_personalisation.ipynb

    >>> gini([1, 1, 1, 1])
    0.0
    >>> round(gini([0, 0, 0, 4]), 3)
    0.75
    """
    x = np.sort(np.asarray(counts, dtype=float))
    if x.ndim != 1 or x.size == 0 or np.any(x < 0):
        raise ValueError("counts must be a non-empty 1-D array of non-negative numbers")
    if x.sum() == 0:
        return 0.0
    n = x.size
    cum = np.cumsum(x)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)
