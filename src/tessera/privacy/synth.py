"""DP synthetic data: noisy 1- and 2-way marginals, a fitted joint table, rounded sampling.

All 2-way marginals are measured once with OpenDP's (discrete) Gaussian mechanism under zCDP
(rho converted from (ε, δ), composed additively and checked with OpenDP's privacy maps). The
domain of every column comes from a public key set (``data/keysets.json`` or ``keys``); values
outside it count as missing. Reading categories from the data leaks which rare categories occur,
so it is only an explicit opt-in (``categories_from_data=True``). Iterative proportional fitting then finds a joint distribution over the full
domain close to them, and rows are produced by systematic sampling of that table to the noisy
row count (unbiased, exact total). Why not
AIM or pac-synth: see docs/decisions/0101-privacy-synthesiser.md.
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

from tessera.privacy.errors import PrivacyError
from tessera.privacy.keysets import public_keysets

dp.enable_features("contrib")

MAX_CELLS = 20_000_000
MISSING = ""


def rho_from_epsilon_delta(epsilon: float, delta: float) -> float:
    """Largest zCDP rho whose (ε, δ) guarantee is within the request: ε = rho + 2√(rho ln 1/δ)."""
    log_term = math.log(1 / delta)
    root = -math.sqrt(log_term) + math.sqrt(log_term + epsilon)
    return root * root


@dataclass
class SynthResult:
    """Synthetic rows and what the fit spent."""

    data: pd.DataFrame
    rho: float
    sigma: float


def synthesise(
    df: pd.DataFrame,
    *,
    epsilon: float,
    delta: float | None = None,
    iterations: int = 30,
    rng: np.random.Generator | None = None,
    keys: Mapping[str, Sequence[str]] | None = None,
    multi_valued: Collection[str] = (),
    categories_from_data: bool = False,
) -> SynthResult:
    """Produce a synthetic table under (ε, δ)-DP (add/remove one record).

    Args:
        df: categorical table (every value is a category; blank is its own category).
        epsilon: ε > 0.
        delta: δ; defaults to 1 / (10 n).
        iterations: IPF sweeps.
        rng: randomness for sampling rows (the DP noise always comes from OpenDP).
        keys: column → public categories; defaults to the shipped key sets.
        multi_valued: columns whose cells may hold several ``;``-separated keys; their domain
            is every non-empty subset of the keys (public, since the keys are).
        categories_from_data: read categories from the data instead (not DP: reveals which
            categories occur; only for tables whose categories are already public).

    Raises:
        PrivacyError: for ε ≤ 0, an empty table or a domain too large for the joint table.
    """
    if not epsilon > 0:
        raise PrivacyError(f"ε must be positive, got {epsilon}")
    if df.empty or df.shape[1] == 0:
        raise PrivacyError("the input table is empty")
    delta = delta if delta is not None else 1 / (10 * len(df))
    if not 0 < delta < 1:
        raise PrivacyError(f"δ must be in (0, 1), got {delta}")
    rng = rng or np.random.default_rng()
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
    shape = tuple(len(u) for u in labels)
    if math.prod(shape) > MAX_CELLS:
        raise PrivacyError(
            f"the joint domain has {math.prod(shape):,} cells (limit {MAX_CELLS:,}); "
            "use fewer or coarser columns"
        )
    # The domain (categories per column) is read from the data; callers who must hide it
    # pass a table whose columns are already restricted to public categories.
    d = len(shape)
    pairs: list[tuple[int, ...]] = [*itertools.combinations(range(d), 2)] or [(0,)]
    rho = rho_from_epsilon_delta(epsilon, delta)
    sigma = math.sqrt(len(pairs) / (2 * rho))
    gaussian = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int), scale=sigma
    )
    # Each record adds one to one cell of every marginal: L2 sensitivity 1 per marginal.
    spent = len(pairs) * float(cast(Callable[[int], float], gaussian.map)(1))
    if spent > rho * (1 + 1e-9):
        raise PrivacyError("internal error: the noise does not meet the requested rho")
    measured = []
    for axes in pairs:
        sub = tuple(shape[a] for a in axes)
        flat = np.ravel_multi_index(tuple(codes[a] for a in axes), sub)
        counts = np.bincount(flat, minlength=math.prod(sub)).reshape(sub).astype(float)
        noisy = np.asarray(gaussian(counts.astype(np.int64).ravel().tolist()), dtype=float)
        measured.append((axes, np.clip(noisy.reshape(sub), 0, None)))
    total = float(np.mean([m.sum() for _, m in measured]))
    joint = np.full(shape, total / math.prod(shape))
    for _ in range(iterations):
        for axes, target in measured:
            other = tuple(a for a in range(d) if a not in axes)
            current = joint.sum(axis=other)
            ratio = np.divide(target, current, out=np.zeros_like(target), where=current > 0)
            expand = [slice(None) if a in axes else None for a in range(d)]
            joint *= ratio[tuple(expand)]
    rows = _round(joint.ravel(), round(total), rng)
    idx = np.unravel_index(np.repeat(np.arange(joint.size), rows), shape)
    out = pd.DataFrame({c: labels[j][idx[j]] for j, c in enumerate(df.columns)})
    out = out.replace(MISSING, pd.NA).sample(frac=1, random_state=int(rng.integers(1 << 31)))
    return SynthResult(out.reset_index(drop=True), rho, sigma)


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
