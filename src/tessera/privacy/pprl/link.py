"""Linkage of encodings: match keys with Fellegi-Sunter weights, or Dice similarity of CLKs.

When both tables carry match keys (the default encoding) the pairs are scored identifier by
identifier (:mod:`tessera.privacy.pprl.scoring`) and the CLK's Dice similarity only breaks ties.
Otherwise, or with ``method="dice"``, CLKs are compared by Dice similarity with blocking.
Comparison runs in the compiled kernel of :mod:`tessera.privacy.pprl._dice` (numba, tiled,
``popcnt`` per 64-bit word, balanced encodings compared on one bit of each complement pair).
Without numba it falls back to word-major numpy: for each 64-bit word, AND a block of A with
all of B and add the popcounts, reusing preallocated buffers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.pprl import _dice, scoring
from tessera.privacy.pprl.encode import Bits, EncodedTable

IntArray = npt.NDArray[np.int64]
_BLOCK_ROWS = 128
_LSH_TABLES = 128
_LSH_BITS = 12


def _all_pairs(
    a: Bits, b: Bits, threshold: float
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    compiled = _dice.all_pairs(a, b, threshold)
    if compiled is not None:
        return compiled
    return _all_pairs_numpy(a, b, threshold)


def _all_pairs_numpy(
    a: Bits, b: Bits, threshold: float
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    weight_a = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    weight_b = np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    b_words = np.ascontiguousarray(b.T)
    rows = min(_BLOCK_ROWS, len(a))
    anded = np.empty((rows, len(b)), dtype=np.uint64)
    counts = np.empty((rows, len(b)), dtype=np.uint8)
    common = np.empty((rows, len(b)), dtype=np.uint16)
    found_i, found_j, found_s = [], [], []
    for start in range(0, len(a), rows):
        m = min(rows, len(a) - start)
        common[:m] = 0
        for w in range(a.shape[1]):
            np.bitwise_and(a[start : start + m, w, None], b_words[w][None, :], out=anded[:m])
            np.bitwise_count(anded[:m], out=counts[:m])
            np.add(common[:m], counts[:m], out=common[:m])
        dice = 2.0 * common[:m] / (weight_a[start : start + m, None] + weight_b[None, :])
        i, j = np.nonzero(dice >= threshold)
        found_i.append(i + start)
        found_j.append(j)
        found_s.append(dice[i, j])
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s)


def _lsh_candidates(a: Bits, b: Bits, seed: int = 0) -> tuple[IntArray, IntArray]:
    """Hamming LSH: records agreeing on all sampled bits of some table become candidates."""
    bits_a = np.unpackbits(a.view(np.uint8), axis=1)
    bits_b = np.unpackbits(b.view(np.uint8), axis=1)
    rng = np.random.default_rng(seed)
    weights = 1 << np.arange(_LSH_BITS, dtype=np.int64)
    keys = []
    for _ in range(_LSH_TABLES):
        sample = rng.choice(bits_a.shape[1], _LSH_BITS, replace=False)
        key_a = pd.DataFrame({"key": bits_a[:, sample] @ weights, "i": np.arange(len(a))})
        key_b = pd.DataFrame({"key": bits_b[:, sample] @ weights, "j": np.arange(len(b))})
        joined = key_a.merge(key_b, on="key")
        keys.append(joined["i"].to_numpy() * len(b) + joined["j"].to_numpy())
    pairs = np.unique(np.concatenate(keys))
    return pairs // len(b), pairs % len(b)


def _scored(
    a: Bits, b: Bits, i: IntArray, j: IntArray, threshold: float
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64], int]:
    compiled = _dice.listed_pairs(a, b, i, j)
    if compiled is not None:
        common = compiled
    else:
        common = np.zeros(len(i), dtype=np.int64)
        for start in range(0, len(i), 1 << 18):
            sl = slice(start, start + (1 << 18))
            common[sl] = np.bitwise_count(a[i[sl]] & b[j[sl]]).sum(axis=1)
    weights = np.bitwise_count(a).sum(axis=1)[i] + np.bitwise_count(b).sum(axis=1)[j]
    dice = 2.0 * common / weights
    keep = dice >= threshold
    return i[keep], j[keep], dice[keep], len(i)


@dataclass
class LinkResult:
    """Matched pairs (record ids and score) and a cluster id for every record.

    ``score`` is the posterior match probability with ``method="keys"`` and the Dice
    similarity with ``method="dice"``; ``model`` holds the fitted weights of the former.
    """

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    comparisons: int
    method: str = "dice"
    model: scoring.FellegiSunter | None = None


def _one_to_one(i: IntArray, j: IntArray, s: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Greedy one-to-one matching: best score first (ties by record), each record once."""
    return _dice.greedy_one_to_one(np.lexsort((j, i, -s)).astype(np.int64), i, j)


def link(
    a: EncodedTable,
    b: EncodedTable,
    threshold: float = 0.66,
    *,
    one_to_one: bool = True,
    blocking: Literal["auto", "none", "lsh"] = "auto",
    method: Literal["auto", "keys", "dice"] = "auto",
    match_probability: float = 0.5,
) -> LinkResult:
    """Link two encoded tables.

    Args:
        a: encodings from the first organisation.
        b: encodings from the second, made with the same schema and key.
        threshold: smallest Dice similarity accepted as a match (``method="dice"``).
        one_to_one: keep each record in at most one pair (greedy by score).
        blocking: ``lsh`` compares only records that agree on sampled bits; ``auto`` uses it
            above 50 million possible pairs (``method="dice"``).
        method: ``keys`` scores candidate pairs by match keys; ``dice`` compares CLKs;
            ``auto`` uses the keys when both tables have them.
        match_probability: smallest posterior match probability accepted (``method="keys"``).

    Returns:
        Pairs of record ids with scores, and cluster ids; never any identifier.
    """
    if a.bits.shape[1] != b.bits.shape[1]:
        raise PrivacyError("the two tables were encoded with different lengths")
    if not 0 < threshold <= 1:
        raise PrivacyError("threshold must be in (0, 1]")
    if not 0 < match_probability < 1:
        raise PrivacyError("match_probability must be in (0, 1)")
    if len(a.ids) == 0 or len(b.ids) == 0:
        raise PrivacyError("an encoded table is empty")
    has_keys = a.keys is not None and b.keys is not None
    if method == "keys" and not has_keys:
        raise PrivacyError("method='keys' needs both tables encoded with match keys")
    if method == "keys" or (method == "auto" and has_keys):
        return _link_by_keys(a, b, match_probability, one_to_one)
    use_lsh = blocking == "lsh" or (blocking == "auto" and len(a.ids) * len(b.ids) > 50_000_000)
    if use_lsh:
        ci, cj = _lsh_candidates(a.bits, b.bits)
        i, j, s, comparisons = _scored(a.bits, b.bits, ci, cj, threshold)
    else:
        i, j, s = _all_pairs(a.bits, b.bits, threshold)
        comparisons = len(a.ids) * len(b.ids)
    if one_to_one:
        keep = _one_to_one(i, j, s)
        i, j, s = i[keep], j[keep], s[keep]
    pairs = pd.DataFrame({"a_id": a.ids[i], "b_id": b.ids[j], "score": np.round(s, 4)})
    pairs = pairs.sort_values(["score", "a_id"], ascending=[False, True]).reset_index(drop=True)
    return LinkResult(pairs, _clusters(a, b, i, j), comparisons)


def _link_by_keys(
    a: EncodedTable, b: EncodedTable, match_probability: float, one_to_one: bool
) -> LinkResult:
    assert a.keys is not None
    assert b.keys is not None
    found = scoring.candidates(a.keys, b.keys)
    model = scoring.fit(found.levels)
    log_odds = model.log_odds(found.levels)
    i, j = found.i, found.j
    # Dice of the CLKs only orders pairs with equal weights (it is below one weight step).
    dice = _scored(a.bits, b.bits, i, j, 0.0)[2] if len(i) else np.zeros(0)
    order_score = log_odds + 1e-3 * dice
    keep = log_odds >= np.log(match_probability / (1 - match_probability))
    i, j, log_odds, order_score = i[keep], j[keep], log_odds[keep], order_score[keep]
    if one_to_one:
        chosen = _one_to_one(i, j, order_score)
        i, j, log_odds = i[chosen], j[chosen], log_odds[chosen]
    probability = 1.0 / (1.0 + np.exp(-log_odds))
    pairs = pd.DataFrame({"a_id": a.ids[i], "b_id": b.ids[j], "score": np.round(probability, 4)})
    pairs = pairs.sort_values(["score", "a_id"], ascending=[False, True]).reset_index(drop=True)
    return LinkResult(pairs, _clusters(a, b, i, j), len(found.i), "keys", model)


def _clusters(a: EncodedTable, b: EncodedTable, i: IntArray, j: IntArray) -> pd.DataFrame:
    parent = np.arange(len(a.ids) + len(b.ids))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for ai, bj in zip(i.tolist(), (j + len(a.ids)).tolist(), strict=True):
        parent[find(ai)] = find(bj)
    roots = np.array([find(x) for x in range(len(parent))])
    cluster = pd.factorize(roots)[0]
    return pd.DataFrame(
        {
            "source": ["a"] * len(a.ids) + ["b"] * len(b.ids),
            "record_id": np.concatenate([a.ids, b.ids]),
            "cluster": cluster,
        }
    )
