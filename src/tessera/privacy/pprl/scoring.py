"""Second-stage linkage on match keys: identifier-level agreement and Fellegi-Sunter weights.

Candidate pairs are the pairs of records that share at least one match-key token. For each
keyed identifier a pair then has one level: the identifier agrees exactly, within one edit or
partly; it is missing on one side, or on both (a shared "missing" token says so); or it
disagrees (their presence masks agree on it and nothing else was shared: present on both, or
missing on both where no token could tell). The weights of the
levels are estimated without labels by expectation-maximisation on the candidate pairs (the
Fellegi-Sunter model, identifiers conditionally independent given match status), and the
posterior probability of a match is what the threshold applies to: 0.5 by default, i.e. the
threshold is chosen by the fitted mixture rather than by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl.matchkeys import EXACT as EXACT_MATCH
from tessera.privacy.pprl.matchkeys import MATCH_BITS, ONE_EDIT, PRESENCE_BITS, MatchKeys
from tessera.privacy.pprl.matchkeys import MISSING as MISSING_BOTH
from tessera.privacy.pprl.matchkeys import PARTIAL as PARTIAL_MATCH

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DISAGREE, MISSING, PARTIAL, FUZZY, EXACT = 0, 1, 2, 3, 4
LEVELS = ("disagree", "missing", "partly", "within one edit", "exact")
_PREFILTER_BITS = 25
# Prior pseudo-counts per identifier and class, shaped like the starting m and u: with thousands
# of candidate pairs they do not matter; with a handful they keep one weak agreement from being
# called a match because EM has nothing to contrast it with.
_PRIOR_STRENGTH = 10.0


@dataclass
class Candidates:
    """Candidate pairs (row in A, row in B) and each pair's level per keyed identifier."""

    i: IntArray
    j: IntArray
    levels: npt.NDArray[np.int8]  # pairs x identifiers


def _shared_tokens(
    a: MatchKeys, b: MatchKeys
) -> tuple[IntArray, IntArray, IntArray, npt.NDArray[np.uint64]]:
    """(row in A, row in B, slot, presence difference) of every token the two tables share."""
    width = a.layout.width
    flat_a, flat_b = a.tokens.reshape(-1), b.tokens.reshape(-1)
    match_a, match_b = flat_a & MATCH_BITS, flat_b & MATCH_BITS
    # Almost no token is shared: a bitmap of low bits keeps the hash join small.
    mask = np.uint64((1 << _PREFILTER_BITS) - 1)
    seen_b = np.zeros(1 << _PREFILTER_BITS, dtype=bool)
    seen_b[(match_b & mask).astype(np.int64)] = True
    maybe_a = np.flatnonzero(seen_b[(match_a & mask).astype(np.int64)])
    seen_a = np.zeros(1 << _PREFILTER_BITS, dtype=bool)
    seen_a[(match_a[maybe_a] & mask).astype(np.int64)] = True
    maybe_b = np.flatnonzero(seen_a[(match_b & mask).astype(np.int64)])
    joined = pd.DataFrame({"token": match_a[maybe_a], "fa": maybe_a}).merge(
        pd.DataFrame({"token": match_b[maybe_b], "fb": maybe_b}), on="token"
    )
    fa, fb = joined["fa"].to_numpy(np.int64), joined["fb"].to_numpy(np.int64)
    # Both halves carry a presence mask under the same pad: the pads cancel.
    differ = (flat_a[fa] ^ flat_b[fb]) >> np.uint64(64 - PRESENCE_BITS)
    return fa // width, fb // width, fa % width, differ


def candidates(a: MatchKeys, b: MatchKeys) -> Candidates:
    """Pairs sharing a token, with the agreement level of each keyed identifier."""
    if a.layout != b.layout:
        raise PrivacyError(
            f"the two tables have different match keys ({a.layout.describe()} and "
            f"{b.layout.describe()}): encode both with the same schema"
        )
    layout = a.layout
    rows_a, rows_b, slots, differ = _shared_tokens(a, b)
    fields = len(layout.kinds)
    level_of = {
        EXACT_MATCH: EXACT,
        ONE_EDIT: FUZZY,
        PARTIAL_MATCH: PARTIAL,
        MISSING_BOTH: MISSING,
    }
    slot_field = np.full((layout.width, 2), fields, dtype=np.int64)  # ``fields``: no field
    slot_level = np.zeros((layout.width, 2), dtype=np.int8)
    for kt in layout.types:
        span = slice(kt.start, kt.start + kt.slots)
        for position, side in enumerate(kt.sides):
            slot_field[span, position] = side.field
            slot_level[span, position] = level_of[side.closeness]
    pair, first = np.unique(rows_a * len(b.tokens) + rows_b, return_inverse=True)
    agree = np.zeros((len(pair), fields + 1), dtype=np.int8)
    # The closest agreement seen for a field wins (exact anywhere beats within one edit).
    for position in range(2):
        np.maximum.at(agree, (first, slot_field[slots, position]), slot_level[slots, position])
    agree = agree[:, :fields]
    pair_differ = np.zeros(len(pair), dtype=np.uint64)
    pair_differ[first] = differ
    one_side = (pair_differ[:, None] >> np.arange(fields, dtype=np.uint64)) & np.uint64(1) == 1
    i, j = pair // len(b.tokens), pair % len(b.tokens)
    levels = np.where(agree > 0, agree, np.where(one_side, MISSING, DISAGREE)).astype(np.int8)
    return Candidates(i.astype(np.int64), j.astype(np.int64), levels)


@dataclass
class FellegiSunter:
    """Fitted model: per identifier and level, m and u probabilities; the match share."""

    m: FloatArray  # identifiers x levels
    u: FloatArray
    match_share: float
    iterations: int

    @property
    def weights(self) -> FloatArray:
        """Match weight (log likelihood ratio) of every identifier and level."""
        out: FloatArray = np.log(self.m / self.u)
        return out

    def log_odds(self, levels: npt.NDArray[np.int8]) -> FloatArray:
        """Posterior log odds of a match for each pair."""
        columns = np.arange(levels.shape[1])
        prior = np.log(self.match_share / (1 - self.match_share))
        out: FloatArray = self.weights[columns[None, :], levels].sum(axis=1) + prior
        return out


def _initial(fields: int) -> tuple[FloatArray, FloatArray]:
    """Starting m and u: matches agree, non-matches disagree (ranks of the levels)."""
    rank = np.arange(len(LEVELS), dtype=np.float64)
    m = np.exp(rank) / np.exp(rank).sum()
    u = np.exp(-rank) / np.exp(-rank).sum()
    return np.tile(m, (fields, 1)), np.tile(u, (fields, 1))


def fit(
    levels: npt.NDArray[np.int8], iterations: int = 500, tolerance: float = 1e-8
) -> FellegiSunter:
    """Estimate the Fellegi-Sunter model from unlabelled candidate pairs by EM."""
    pairs, fields = levels.shape
    if pairs == 0:
        m, u = _initial(fields)
        return FellegiSunter(m, u, 0.5, 0)
    onehot = np.zeros((pairs, fields, len(LEVELS)))
    np.put_along_axis(onehot, levels[:, :, None].astype(np.int64), 1.0, axis=2)
    m, u = _initial(fields)
    prior_m, prior_u = m.copy(), u.copy()
    share = 0.5
    done = 0
    while done < iterations:
        done += 1
        log_m = (onehot * np.log(m)[None]).sum(axis=(1, 2)) + np.log(share)
        log_u = (onehot * np.log(u)[None]).sum(axis=(1, 2)) + np.log(1 - share)
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        new_share = float((posterior.sum() + 1.0) / (pairs + 2.0))
        counts_m = np.einsum("p,pfl->fl", posterior, onehot) + _PRIOR_STRENGTH * prior_m
        counts_u = np.einsum("p,pfl->fl", 1 - posterior, onehot) + _PRIOR_STRENGTH * prior_u
        new_m = counts_m / counts_m.sum(axis=1, keepdims=True)
        new_u = counts_u / counts_u.sum(axis=1, keepdims=True)
        change = max(abs(new_share - share), float(np.abs(new_m - m).max()))
        m, u, share = new_m, new_u, new_share
        if change < tolerance:
            break
    model = FellegiSunter(m, u, share, done)
    if (model.weights[:, EXACT] - model.weights[:, DISAGREE]).mean() < 0:
        # EM settled with the classes swapped: the "matches" disagree. Swap them back.
        model = FellegiSunter(u, m, 1 - share, done)
    return model
