"""DP synthetic data: noisy marginals, a joint table fitted to them, rows sampled from it.

1. The domain of every column comes from a public key set (``data/keysets.json`` or
   ``keys``); values outside it count as missing. Reading categories from the data leaks
   which rare categories occur, so that is only an explicit opt-in
   (``categories_from_data=True``).
2. The budget: (ε, δ) becomes the largest zCDP rho whose conversion back to (ε, δ), by
   OpenDP's own privacy map (Canonne, Kamath, Steinke 2020), stays within the request; the
   textbook bound ε = rho + 2√(rho ln 1/δ) gives away a third of the budget at ε = 1.
3. Every 2-way and every 3-way marginal (30% and 70% of the budget by default; ``degree=2``
   measures the 2-way ones only) is measured once with OpenDP's discrete Gaussian; the spend
   is read back from OpenDP's privacy map and checked against rho.
4. A joint table over the full domain is fitted to the noisy marginals by Private-PGM's
   estimator (``_joint.fit``), which keeps it non-negative and consistent.
5. Rows are drawn from that table by systematic sampling to the estimated row count
   (unbiased per cell, exact total), then moved between cells so that the sample's measured
   marginals match the fitted table's (``_balance``).

Why this design and what else was measured: docs/decisions/0101-privacy-synthesiser.md.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import opendp.prelude as dp
import pandas as pd

from tessera.privacy._balance import balance_counts
from tessera.privacy._joint import JointDomain, Measurement, fit
from tessera.privacy.errors import PrivacyError
from tessera.privacy.keysets import public_keysets

dp.enable_features("contrib")

MAX_CELLS = 20_000_000
MISSING = ""
# Pruning never keeps combinations fitted below 4 rows: at eps = 4 (sigma 7.8) 0.2 sigma left
# 5.6% of 2-way combinations fabricated, 4 rows (0.5 sigma) 1.9% (docs/decisions/0101).
PRUNE_FLOOR = 4.0


def rho_from_epsilon_delta(epsilon: float, delta: float) -> float:
    """Textbook zCDP rho for (ε, δ): ε = rho + 2√(rho ln 1/δ) (Bun, Steinke 2016); a lower bound."""
    log_term = math.log(1 / delta)
    root = -math.sqrt(log_term) + math.sqrt(log_term + epsilon)
    return root * root


def zcdp_rho(epsilon: float, delta: float) -> float:
    """Largest rho whose (ε, δ) by OpenDP's zCDP → approximate-DP map is within the request."""

    def epsilon_at(rho: float) -> float:
        try:
            approx = dp.c.make_zCDP_to_approxDP(_gaussian(1 / math.sqrt(2 * rho)))
            profile = cast(Callable[[int], dp.PrivacyProfile], approx.map)(1)
            return float(cast(Callable[[float], float], profile.epsilon)(delta))
        except dp.OpenDPException:  # overflows far beyond any useful epsilon
            return math.inf

    low = rho_from_epsilon_delta(epsilon, delta)
    if epsilon_at(low) > epsilon:  # only where OpenDP overflows: keep the textbook bound
        return low
    high = low * 4
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if epsilon_at(middle) <= epsilon else (low, middle)
    return low


@dataclass
class SynthResult:
    """Synthetic rows and what the fit spent."""

    data: pd.DataFrame
    rho: float
    sigma: float  # noise std of the highest-degree marginals
    measured: list[tuple[str, ...]]
    rho_spent: float = 0.0  # read back from OpenDP's privacy maps, at most ``rho``


def synthesise(
    df: pd.DataFrame,
    *,
    epsilon: float,
    delta: float | None = None,
    iterations: int | None = None,
    rng: np.random.Generator | None = None,
    keys: Mapping[str, Sequence[str]] | None = None,
    multi_valued: Collection[str] = (),
    categories_from_data: bool = False,
    prune: float = 0.3,
    degree: int = 3,
    pair_share: float = 0.3,
) -> SynthResult:
    """Produce a synthetic table under (ε, δ)-DP (add/remove one record).

    Args:
        df: categorical table (every value is a category; blank is its own category).
        epsilon: ε > 0.
        delta: δ; defaults to 1 / (10 n).
        iterations: mirror-descent steps of the fit; by default 100 (200 with ``degree=2``)
            at rho = 0.03 (eps = 1) and 10,000 rows, growing with sqrt(rho) x rows up to 1,000:
            larger counts relative to the noise make a sharper optimum that takes longer to
            reach.
        rng: randomness for sampling rows (the DP noise always comes from OpenDP).
        keys: column → public categories; defaults to the shipped key sets.
        multi_valued: columns whose cells may hold several ``;``-separated keys; their domain
            is every non-empty subset of the keys (public, since the keys are).
        categories_from_data: read categories from the data instead (not DP: reveals which
            categories occur; only for tables whose categories are already public).
        prune: remove from the fit every 2-way combination estimated below ``prune`` x the
            noise std that measuring only the 2-way marginals would have (at least
            ``PRUNE_FLOOR`` rows) before sampling (post-processing): fewer fabricated
            combinations, more suppressed ones (measured in docs/decisions/0101). 0 keeps all.
        degree: measure the 2-way marginals only (2) or also every 3-way marginal (3, the
            default): on CTDC at eps = 1 the 3-way error drops by a quarter (15.7 to 11.5 on
            the same noise draws) and the 2-way error stays within the spread between draws,
            for about 1.4 times the time.
        pair_share: with ``degree=3``, the share of the budget spent on the 2-way marginals
            (the rest goes to the 3-way ones). On CTDC at eps = 1, 0.3 and 0.5 give the same
            2-way error and 0.3 a slightly smaller 3-way one; 0.7 is worse on both; 0
            fabricates more 2-way combinations (docs/decisions/0101).

    Raises:
        PrivacyError: for ε ≤ 0, δ outside (0, 1), an empty table, a column without a public
            key set, a degree other than 2 or 3, a pair share outside [0, 1), or a domain too
            large for the joint table.
    """
    if not epsilon > 0:
        raise PrivacyError(f"ε must be positive, got {epsilon}")
    if df.empty or df.shape[1] == 0:
        raise PrivacyError("the input table is empty")
    delta = delta if delta is not None else 1 / (10 * len(df))
    if not 0 < delta < 1:
        raise PrivacyError(f"δ must be in (0, 1), got {delta}")
    rng = rng or np.random.default_rng()
    codes, labels = _encode(df, keys, multi_valued, categories_from_data)
    shape = tuple(len(u) for u in labels)
    if math.prod(shape) > MAX_CELLS:
        raise PrivacyError(
            f"the joint domain has {math.prod(shape):,} cells (limit {MAX_CELLS:,}); "
            "use fewer or coarser columns"
        )
    d = len(shape)
    if degree not in (2, 3):
        raise PrivacyError(f"degree must be 2 or 3, got {degree}")
    if not 0 <= pair_share < 1:
        raise PrivacyError(f"pair_share must be in [0, 1), got {pair_share}")
    rho = zcdp_rho(epsilon, delta)
    plan = _plan(d, degree, rho, pair_share)
    measurements = []
    rho_spent = 0.0
    for group, group_rho in plan:
        sigma, spent = _gaussian_sigma(len(group), group_rho)
        rho_spent += spent
        if spent > group_rho * (1 + 1e-9) or rho_spent > rho * (1 + 1e-9):
            raise PrivacyError("internal error: the noise does not meet the requested rho")
        measurements += [
            Measurement(c, _noisy(_marginal(codes, shape, c), sigma), sigma) for c in group
        ]
    cliques = [m.clique for m in measurements]
    total = max(_total(measurements), 1.0)
    domain = JointDomain(shape, cliques)
    if iterations is None:
        iterations = _default_iterations(rho, total, min(degree, d))
    fitted = domain.from_matrix(fit(domain, measurements, total, iterations))
    # Pruning and balancing look at the 2-way marginals whatever was measured: the fit's
    # 2-way combinations are what the fabricated and suppressed shares count.
    pairs = (
        domain
        if min(degree, d) <= 2
        else JointDomain(shape, [*itertools.combinations(range(d), 2)])
    )
    if prune > 0:
        threshold = max(prune * math.sqrt(len(pairs.cliques) / (2 * rho)), PRUNE_FLOOR)
        start = _pruned(pairs, pairs.to_matrix(fitted), threshold)
        start = domain.to_matrix(pairs.from_matrix(start))
        fitted = domain.from_matrix(fit(domain, measurements, total, iterations // 4, start))
    sampled = _round(fitted.ravel(), round(total), rng).reshape(shape)
    balanced = balance_counts(pairs, pairs.to_matrix(fitted), pairs.to_matrix(sampled))
    rows = np.rint(pairs.from_matrix(balanced).ravel()).astype(np.int64)
    idx = np.unravel_index(np.repeat(np.arange(rows.size), rows), shape)
    out = pd.DataFrame({c: labels[j][idx[j]] for j, c in enumerate(df.columns)})
    out = out.replace(MISSING, pd.NA).sample(frac=1, random_state=int(rng.integers(1 << 31)))
    names = [tuple(str(df.columns[a]) for a in c) for c in cliques]
    return SynthResult(out.reset_index(drop=True), rho, sigma, names, rho_spent)


def _plan(
    d: int, degree: int, rho: float, pair_share: float
) -> list[tuple[list[tuple[int, ...]], float]]:
    """The cliques to measure, in groups that share one noise scale, with each group's rho."""
    top: list[tuple[int, ...]] = [*itertools.combinations(range(d), min(degree, d))]
    if min(degree, d) < 3 or pair_share <= 0:
        return [(top, rho)]
    pairs: list[tuple[int, ...]] = [*itertools.combinations(range(d), 2)]
    return [(pairs, rho * pair_share), (top, rho * (1 - pair_share))]


def _default_iterations(rho: float, total: float, degree: int) -> int:
    # The steps mirror descent needs grow with the counts' size relative to the noise (total /
    # sigma): at eps = 4, 150 steps left the 2-way error at 8.1 and 450 at 4.7; at 100k rows
    # 100 steps left it at 53, 400 at 25, 1,000 at 20. 3-way cliques need fewer steps than
    # pairs (more constraints per step). The cap keeps 100k rows within minutes.
    base = 200 if degree == 2 else 100
    scale = math.sqrt(rho / 0.0306) * total / 10_000
    return int(base * min(max(scale, 1.0), 5.0 if degree == 2 else 10.0))


def _pruned(domain: JointDomain, fitted: np.ndarray, threshold: float) -> np.ndarray:
    """The fit with every combination of a measured clique below ``threshold`` rows removed.

    Post-processing of DP output. A maximum-entropy fit spreads a little mass over every
    combination, and sampled rows then show combinations that never occurred (fabricated).
    """
    small = [(m < threshold).astype(float) for m in domain.marginals(fitted)]
    return np.where(domain.spread(small) > 0, 0.0, fitted)


def _encode(
    df: pd.DataFrame,
    keys: Mapping[str, Sequence[str]] | None,
    multi_valued: Collection[str],
    categories_from_data: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    codes, labels = [], []
    public = public_keysets() if keys is None else keys
    for column in df.columns:
        text = df[column].astype("string").fillna(MISSING)
        if categories_from_data:
            c, u = pd.factorize(text, sort=True)
            codes.append(c)
            labels.append(np.asarray(u, dtype=object))
            continue
        if not public.get(column):
            raise PrivacyError(
                f"no public key set for column {column!r}; pass keys= or categories_from_data=True"
            )
        domain = _domain(list(public[column]), column in multi_valued)
        position = {v: i for i, v in enumerate(domain)}
        order = {k: i for i, k in enumerate(public[column])}
        normalised = [_normalise(v, order) for v in text.tolist()]
        codes.append(np.array([position.get(v, 0) for v in normalised], dtype=np.int64))
        labels.append(np.asarray(domain, dtype=object))
    return codes, labels


def _marginal(codes: list[np.ndarray], shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    sub = tuple(shape[a] for a in axes)
    flat = np.ravel_multi_index(tuple(codes[a] for a in axes), sub)
    return np.bincount(flat, minlength=math.prod(sub)).reshape(sub).astype(float)


def _total(measurements: Sequence[Measurement]) -> float:
    # Each marginal's sum estimates the row count with variance sigma² x cells: weigh by that.
    weights = np.array([1 / (m.sigma**2 * m.values.size) for m in measurements])
    sums = np.array([m.values.sum() for m in measurements])
    return float((weights * sums).sum() / weights.sum())


def _round(mass: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    # Systematic sampling: every cell gets floor or ceil of its expected count, unbiased, and
    # the total is exactly n. (Largest-remainder rounding was biased towards big cells.)
    edges = np.cumsum(mass * n / max(mass.sum(), 1e-12))
    points = rng.random() + np.arange(n)
    return np.diff(np.concatenate([[0], np.searchsorted(points, edges)])).astype(np.int64)


def _domain(keys: list[str], multi: bool) -> list[str]:
    if not multi:
        return [MISSING, *keys]
    subsets = [
        ";".join(c) for r in range(1, len(keys) + 1) for c in itertools.combinations(keys, r)
    ]
    return [MISSING, *subsets]


def _normalise(cell: str, order: Mapping[str, int]) -> str:
    parts = {p.strip() for p in cell.split(";")} & set(order)
    return ";".join(sorted(parts, key=order.__getitem__))


def _gaussian_sigma(count: int, rho: float) -> tuple[float, float]:
    """Noise scale for ``count`` sensitivity-1 measurements within ``rho``, and the rho spent.

    The spend is read back from OpenDP's privacy map, not from our formula.
    """
    sigma = math.sqrt(count / (2 * rho))
    gaussian = _gaussian(sigma)
    return sigma, count * float(cast(Callable[[int], float], gaussian.map)(1))


def _gaussian(sigma: float) -> dp.Measurement:
    return dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int), scale=sigma
    )


def _noisy(counts: np.ndarray, sigma: float) -> np.ndarray:
    # Each record adds one to one cell of a marginal: L2 sensitivity 1 per marginal. The
    # noisy counts stay unclipped: the fit weighs them, and clipping would bias small cells.
    noisy = _gaussian(sigma)(counts.astype(np.int64).ravel().tolist())
    return np.asarray(noisy, dtype=float).reshape(counts.shape)
