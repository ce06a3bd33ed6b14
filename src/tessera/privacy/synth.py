"""DP synthetic data: noisy 1- and 2-way marginals, a fitted joint table, rounded sampling.

By default all 2-way marginals are measured once with OpenDP's (discrete) Gaussian mechanism
under zCDP (rho converted from (ε, δ), composed additively and checked with OpenDP's privacy
maps). ``select=`` switches to MST-style selection (McKenna, Miklau, Sheldon 2021): a share of
rho measures every 1-way marginal, a share chooses a spanning tree of pairs (plus
``extra_pairs``) with OpenDP's noisy max (exponential mechanism, zCDP), and the rest measures
the chosen pairs. On CTDC it measured worse than all pairs (the data's dependencies, mostly
shared missingness, span every pair), so it is not the default. The
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
    select: tuple[float, float] | None = None,
    extra_pairs: int = 0,
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
        select: MST-style instead of all pairs: the shares of rho for the 1-way marginals
            and for choosing pairs (the rest measures the d - 1 + ``extra_pairs`` chosen
            pairs). ``None`` (default) measures every pair, which measured better on CTDC
            (see docs/decisions/0101-privacy-synthesiser.md).
        extra_pairs: with ``select``, pairs chosen beyond the spanning tree.

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
    d = len(shape)

    def marginal(axes: tuple[int, ...]) -> np.ndarray:
        sub = tuple(shape[a] for a in axes)
        flat = np.ravel_multi_index(tuple(codes[a] for a in axes), sub)
        return np.bincount(flat, minlength=math.prod(sub)).reshape(sub).astype(float)

    rho = rho_from_epsilon_delta(epsilon, delta)
    if d < 3 or select is None:
        pairs: list[tuple[int, ...]] = [*itertools.combinations(range(d), 2)] or [(0,)]
        sigma, spent = _gaussian_sigma(len(pairs), rho)
        measured = [(axes, _noisy(marginal(axes), sigma)) for axes in pairs]
    else:
        # MST-style (McKenna et al. 2021): 1-way marginals, then a maximum spanning tree of
        # pairs chosen by the exponential mechanism on how badly independence fits each pair,
        # then the chosen pairs measured with most of the budget.
        rho_one, rho_select = rho * select[0], rho * select[1]
        sigma_one, spent = _gaussian_sigma(d, rho_one)
        ones = [((a,), _noisy(marginal((a,)), sigma_one)) for a in range(d)]
        estimate = max(float(np.mean([m.sum() for _, m in ones])), 1.0)
        shares = [m / max(m.sum(), 1e-9) for _, m in ones]
        edges = [*itertools.combinations(range(d), 2)]
        scores = np.array(
            [
                np.abs(marginal(e) - estimate * np.outer(shares[e[0]], shares[e[1]])).sum()
                for e in edges
            ]
        )
        chosen, spent_select = _spanning_tree(edges, scores, d, rho_select, extra_pairs)
        sigma, spent_pairs = _gaussian_sigma(len(chosen), rho - rho_one - rho_select)
        spent += spent_select + spent_pairs
        measured = ones + [(axes, _noisy(marginal(axes), sigma)) for axes in chosen]
    if spent > rho * (1 + 1e-9):
        raise PrivacyError("internal error: the noise does not meet the requested rho")
    mixed = select is not None and d >= 3
    total = float(np.mean([m.sum() for _, m in measured]))
    joint = np.full(shape, total / math.prod(shape))
    for _ in range(iterations):
        for axes, target in measured:
            other = tuple(a for a in range(d) if a not in axes)
            current = joint.sum(axis=other)
            # MST mixes 1-way and pair measurements whose noisy totals differ: rescale.
            scaled = target * (joint.sum() / max(target.sum(), 1e-9)) if mixed else target
            ratio = np.divide(scaled, current, out=np.zeros_like(target), where=current > 0)
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
    # Each record adds one to one cell of a marginal: L2 sensitivity 1 per marginal.
    noisy = np.asarray(_gaussian(sigma)(counts.astype(np.int64).ravel().tolist()), dtype=float)
    clipped: np.ndarray = np.clip(noisy.reshape(counts.shape), 0, None)
    return clipped


def _spanning_tree(
    edges: list[tuple[int, int]], scores: np.ndarray, d: int, rho: float, extra: int = 0
) -> tuple[list[tuple[int, ...]], float]:
    """Kruskal with OpenDP's noisy max (zCDP) picking each edge among those joining two parts.

    A score is the L1 distance between a pair's true counts and the independence estimate
    from the noisy 1-way marginals: adding or removing a record moves it by at most 1.
    """
    extra = min(extra, len(edges) - (d - 1))
    per_step = rho / max(d - 1 + extra, 1)
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))

    def make(scale: float) -> dp.Measurement:
        return dp.m.make_noisy_max(
            domain, dp.linf_distance(T=float), dp.zero_concentrated_divergence(), scale=scale
        )

    scale = dp.binary_search_param(make, d_in=1.0, d_out=per_step)
    select = make(scale)
    parent = list(range(d))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    chosen: list[tuple[int, ...]] = []
    spent = 0.0
    while len(chosen) < d - 1:
        open_edges = [i for i, (a, b) in enumerate(edges) if find(a) != find(b)]
        pick = open_edges[int(select([float(scores[i]) for i in open_edges]))]
        spent += float(cast(Callable[[float], float], select.map)(1.0))
        a, b = edges[pick]
        parent[find(a)] = find(b)
        chosen.append(edges[pick])
    while len(chosen) < d - 1 + extra:
        open_edges = [i for i, e in enumerate(edges) if e not in chosen]
        pick = open_edges[int(select([float(scores[i]) for i in open_edges]))]
        spent += float(cast(Callable[[float], float], select.map)(1.0))
        chosen.append(edges[pick])
    return chosen, spent
