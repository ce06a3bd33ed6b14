"""Red-team attacks on CLK encodings, for tests and audits (never run on production data).

The attacker model is deliberately strong: the attacker holds the *same plaintext* that was
encoded (all identifiers of every record), knows the schema and the code, sees every encoding,
but not the linkage secret and not which encoding belongs to which record (rows are shuffled).
Each attack returns the share of encodings it re-identifies, i.e. attributes to the right
plaintext record as its unique best guess.

* :func:`pattern_mining_attack` (Christen et al., "Pattern-mining based cryptanalysis of Bloom
  filters", 2018, simplified): for each frequent token of the plaintext it searches for a tight
  group of bit positions whose common support matches that token's frequency, takes the records
  holding all of them as the holders of the token, and re-identifies each encoding from the
  tokens it was found to hold. Mined on the published bits and on the recovered original half
  of balanced encodings (see :func:`pattern_mining_report`); on the latter it re-identifies
  most records of encodings without bit flipping.
* :func:`graph_matching_attack` (Vidanage et al., "Graph matching attack on privacy-preserving
  record linkage", 2020, simplified): the attacker encodes the plaintext with a key of their own,
  so both sides have a similarity graph over the same records; each node gets a fingerprint (its
  sorted strongest similarities and a similarity histogram) and encodings are matched to
  plaintext records by nearest fingerprint. Every variant in
  :mod:`tessera.privacy.pprl._graph_attack` is tried and the best one counts.

Match keys are not attacked here: within one table no token repeats and the presence masks on
them look random (both tested directly), so they offer neither frequencies nor a graph.
``presence_partition`` measures what telling the attacker each record's identifiers would add
(a design the keys replaced: see docs/decisions/0102).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.pprl._graph_attack import (
    graph_matching_attack,
    graph_matching_report,
    original_half,
    presence_partition,
    unpack,
)
from tessera.privacy.pprl.encode import TOKENISERS
from tessera.privacy.pprl.normalise import NORMALISERS
from tessera.privacy.pprl.schema import ClkSchema

BoolMatrix = npt.NDArray[np.bool_]
FloatMatrix = npt.NDArray[np.float64]
__all__ = [
    "graph_matching_attack",
    "graph_matching_report",
    "pattern_mining_attack",
    "pattern_mining_report",
    "presence_partition",
    "record_tokens",
]


def record_tokens(df: pd.DataFrame, schema: ClkSchema) -> list[set[str]]:
    """The tokens the encoder hashes for each record, tagged with their field (public code)."""
    out: list[set[str]] = [set() for _ in range(len(df))]
    for spec in schema.fields:
        tokenise, normalise = TOKENISERS[spec.kind], NORMALISERS[spec.kind]
        values = df[spec.column].astype("string").str.strip().fillna("")
        for i, value in enumerate(values.tolist()):
            if value:
                tokens = tokenise(normalise(str(value)), spec.q)
                out[i].update(f"{spec.column}|{t}" for t in tokens)
    return out


def _reidentified(guess: npt.NDArray[np.int64], unique: npt.NDArray[np.bool_]) -> float:
    """Share of encodings (row i is record i before shuffling) whose unique guess is right."""
    correct = (guess == np.arange(len(guess))) & unique
    return float(correct.mean())


def _closed_itemsets(matrix: BoolMatrix, min_count: float, drop: float) -> list[BoolMatrix]:
    """Record sets of closed groups of bit positions, mined greedily from every seed position.

    From each seed the group grows by the position that keeps most of its records; it is closed
    (a candidate token) when every further position would lose more than ``drop`` of them.
    All seeds grow at once (one matrix product per step); the groups are returned in the
    order a seed-by-seed walk would find them.
    """
    columns = matrix.T.astype(np.float32)
    seeds = np.flatnonzero(matrix.sum(axis=0) >= min_count)
    holders = matrix[:, seeds].copy()  # records x seeds
    size = np.ones(len(seeds), dtype=np.int64)
    active = np.ones(len(seeds), dtype=bool)
    found: list[tuple[int, int, BoolMatrix]] = []
    step = 0
    while active.any():
        live = np.flatnonzero(active)
        h = holders[:, live].sum(axis=0).astype(np.float64)
        overlap = columns @ holders[:, live].astype(np.float32)  # positions x live seeds
        overlap[overlap >= h[None, :]] = -1
        q = overlap.argmax(axis=0)
        best = overlap[q, np.arange(len(live))]
        grow = best >= (1 - drop) * h
        closed = ~grow
        for k in np.flatnonzero(closed & (size[live] >= 2)):
            found.append((int(live[k]), step, holders[:, live[k]].copy()))
        stop = closed & (best < min_count)
        active[live[stop]] = False
        extend = ~stop
        cols = live[extend]
        holders[:, cols] &= matrix[:, q[extend]]
        size[cols] += 1
        step += 1
    seen: set[bytes] = set()
    out: list[BoolMatrix] = []
    for _, _, group in sorted(found, key=lambda item: (item[0], item[1])):
        signature = np.packbits(group).tobytes()
        if signature not in seen:
            seen.add(signature)
            out.append(group)
    return out


def pattern_mining_attack(
    plain: pd.DataFrame,
    bits: npt.NDArray[np.uint64],
    schema: ClkSchema,
    *,
    min_support: float = 0.01,
    max_tokens: int = 300,
    tolerance: float = 0.05,
    drop: float = 0.1,
) -> float:
    """The best re-identification share over :func:`pattern_mining_report`'s variants."""
    report = pattern_mining_report(
        plain,
        bits,
        schema,
        min_support=min_support,
        max_tokens=max_tokens,
        tolerance=tolerance,
        drop=drop,
    )
    return max(report.values())


def pattern_mining_report(
    plain: pd.DataFrame,
    bits: npt.NDArray[np.uint64],
    schema: ClkSchema,
    *,
    min_support: float = 0.01,
    max_tokens: int = 300,
    tolerance: float = 0.05,
    drop: float = 0.1,
) -> dict[str, float]:
    """Share of encodings re-identified by frequent-pattern mining, by variant.

    Mined on the published bits, and on the original half of balanced encodings with every
    position set in more than half of the records inverted: frequent tokens (a common bigram)
    set such positions, and the greedy miner otherwise keeps growing groups with them. On
    encodings without bit flipping that variant re-identifies most records.
    """
    matrix = unpack(bits)
    half = original_half(matrix)
    views = {"bits": matrix, "original half, dense positions inverted": half ^ (half.mean(0) > 0.5)}
    return {
        name: _mine(plain, view, schema, min_support, max_tokens, tolerance, drop)
        for name, view in views.items()
    }


def _mine(
    plain: pd.DataFrame,
    matrix: BoolMatrix,
    schema: ClkSchema,
    min_support: float,
    max_tokens: int,
    tolerance: float,
    drop: float,
) -> float:
    """Share of encodings re-identified by frequent-pattern mining on bit positions.

    Row i of ``matrix`` must be the encoding of ``plain.iloc[i]`` (the attack never uses that
    order; it is only used to score the guesses). Tokens are assigned to mined position groups
    by frequency, ties broken by agreement of co-occurrence with the tokens already assigned.
    """
    n = len(plain)
    tokens = record_tokens(plain, schema)
    frequency = pd.Series([t for ts in tokens for t in ts]).value_counts()
    frequency = frequency[frequency >= max(2, min_support * n)].head(max_tokens)
    names = [str(t) for t in frequency.index]
    truth = np.array([[t in ts for t in names] for ts in tokens], dtype=bool)
    truth_f = truth.astype(np.float32)
    cooc = truth_f.T @ truth_f
    candidates = _closed_itemsets(matrix, max(2.0, min_support * n) * (1 - tolerance), drop)
    if not candidates:
        return 0.0
    groups = np.stack(candidates, axis=1).astype(np.float32)
    supports = groups.sum(axis=0)
    group_overlap = groups.T @ groups
    used = np.zeros(len(candidates), dtype=bool)
    assigned: list[int] = []
    chosen: list[int] = []
    for t, s in enumerate(frequency.to_numpy(dtype=np.float64)):
        ok = np.flatnonzero(~used & (np.abs(supports - s) <= tolerance * s + 1))
        if not len(ok):
            continue
        if assigned:
            cost = np.abs(
                group_overlap[np.ix_(ok, np.asarray(chosen, dtype=np.int64))]
                - cooc[t, assigned][None, :]
            ).sum(1)
        else:
            cost = np.abs(supports[ok] - s)
        g = int(ok[int(np.argmin(cost))])
        used[g] = True
        assigned.append(t)
        chosen.append(g)
    if not assigned:
        return 0.0
    recovered = groups[:, chosen]
    known = truth_f[:, assigned]
    # Jaccard of each encoding's recovered token set against every plaintext record.
    inter = recovered @ known.T
    union = recovered.sum(axis=1)[:, None] + known.sum(axis=1)[None, :] - inter
    score = inter / np.maximum(union, 1)
    guess = score.argmax(axis=1)
    top = np.take_along_axis(score, guess[:, None], axis=1)[:, 0]
    unique = (score >= top[:, None] - 1e-9).sum(axis=1) == 1
    return _reidentified(guess.astype(np.int64), unique)
