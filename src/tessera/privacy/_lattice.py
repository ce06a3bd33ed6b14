"""Encoded quasi-identifiers and the evaluation of one node of the generalisation lattice.

Rows are first collapsed to distinct combinations of (quasi-identifiers, sensitive values)
with a weight, so each node costs O(distinct combinations), not O(rows): the same roll-up
idea ARX uses. A node is a tuple with one generalisation level per quasi-identifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from tessera.privacy.hierarchies import INFERENCE_SAMPLE, MISSING, TOP, Hierarchy

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_DIRECT_MIN = 1 << 16


@dataclass
class EncodedColumn:
    """One quasi-identifier: per level, the generalised code of each distinct original value."""

    name: str
    codes: IntArray
    maps: list[IntArray]
    labels: list[npt.NDArray[np.object_]]
    unique_loss: list[FloatArray]

    def card(self, level: int) -> int:
        return len(self.labels[level])


def factorise_text(values: pd.Series) -> tuple[IntArray, list[str]]:
    """Codes and distinct values of a column read as stripped text; missing becomes ``""``."""
    codes, uniques, _ = factorise_with_sample(values)
    return codes, uniques


def factorise_with_sample(values: pd.Series) -> tuple[IntArray, list[str], list[str]]:
    """:func:`factorise_text`, plus up to 200 distinct raw values in order of appearance.

    The sample is what :func:`~tessera.privacy.hierarchies.infer_hierarchy` looks at, so a
    column is hashed once for both.
    """
    raw_codes, raw_uniques = pd.factorize(values)
    sample = [str(u) for u in raw_uniques[:INFERENCE_SAMPLE]]
    texts = [str(u).strip() for u in raw_uniques] + [MISSING]
    merged, uniques = pd.factorize(pd.Series(texts, dtype=object), sort=True)
    codes = merged[raw_codes].astype(np.int64)
    return codes, [str(u) for u in uniques], sample


def encode_column(name: str, values: pd.Series, hierarchy: Hierarchy) -> EncodedColumn:
    """Factorise a column and precompute its codes and information loss at every level."""
    codes, uniques_list = factorise_text(values)
    return encode_factorised(name, codes, uniques_list, hierarchy)


def encode_factorised(
    name: str, codes: IntArray, uniques_list: list[str], hierarchy: Hierarchy
) -> EncodedColumn:
    """:func:`encode_column` for a column already factorised by :func:`factorise_text`."""
    hierarchy.validate(uniques_list, name)
    maps, labels, losses = [], [], []
    denominator = max(len(uniques_list) - 1, 1)
    middle = hierarchy.generalise_levels(uniques_list)
    for level in range(hierarchy.height + 1):
        if level == 0:
            generalised = uniques_list
        elif level >= hierarchy.height:
            generalised = [TOP] * len(uniques_list)
        else:
            generalised = middle[level - 1]
        gen_codes, gen_labels = pd.factorize(pd.Series(generalised, dtype=object), sort=True)
        leaves = np.bincount(gen_codes, minlength=len(gen_labels))
        maps.append(gen_codes.astype(np.int64))
        labels.append(np.asarray(gen_labels, dtype=object))
        losses.append((leaves[gen_codes] - 1) / denominator)
    return EncodedColumn(name, codes, maps, labels, losses)


def combine(parts: Sequence[tuple[IntArray, int]]) -> tuple[IntArray, int]:
    """Mixed-radix key of several code arrays, re-factorised before it could overflow."""
    key, card = parts[0]
    for codes, size in parts[1:]:
        if card * size >= 1 << 62:
            key, uniques = pd.factorize(key)
            card = len(uniques)
        key = key * size + codes
        card *= size
    return key, card


@dataclass
class Compressed:
    """Distinct (quasi-identifier, sensitive) combinations with their row counts."""

    qi_codes: list[IntArray]
    sensitive_codes: list[IntArray]
    sensitive_cards: list[int]
    weights: FloatArray
    row_index: IntArray


def compress(columns: Sequence[EncodedColumn], sensitive: Sequence[pd.Series]) -> Compressed:
    """Collapse rows to distinct combinations; ``row_index`` maps each row to its combination."""
    sens = [factorise_text(s) for s in sensitive]
    parts = [(c.codes, len(c.maps[0])) for c in columns]
    parts += [(codes, len(u)) for codes, u in sens]
    key, _ = combine(parts)
    row_index, uniques = pd.factorize(key)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[row_index[::-1]] = np.arange(len(row_index))[::-1]
    weights = np.bincount(row_index, minlength=len(uniques)).astype(np.float64)
    return Compressed(
        qi_codes=[c.codes[first] for c in columns],
        sensitive_codes=[codes[first] for codes, _ in sens],
        sensitive_cards=[len(u) for _, u in sens],
        weights=weights,
        row_index=row_index.astype(np.int64),
    )


def class_ids(
    columns: Sequence[EncodedColumn], qi_codes: Sequence[IntArray], node: Sequence[int]
) -> IntArray:
    """Dense equivalence-class id (0..C-1) of each row of ``qi_codes`` under ``node``."""
    parts = [
        (col.maps[level][codes], col.card(level))
        for col, codes, level in zip(columns, qi_codes, node, strict=True)
    ]
    key, card = combine(parts)
    if card <= max(_DIRECT_MIN, 4 * len(key)):
        present = np.zeros(card, dtype=bool)
        present[key] = True
        dense = np.cumsum(present) - 1
        return dense[key].astype(np.int64)
    ids, _ = pd.factorize(key)
    return ids.astype(np.int64)


@dataclass
class Classes:
    """Equivalence classes of one node: a representative combination and the size of each."""

    representative: IntArray
    sizes: FloatArray


def roll_up(
    columns: Sequence[EncodedColumn], comp: Compressed, base: Classes, node: Sequence[int]
) -> tuple[IntArray, Classes]:
    """Classes of ``node`` computed from the classes of a more specific node ``base``.

    Returns the class id of each of the base's classes, and the new classes.
    """
    reps = [codes[base.representative] for codes in comp.qi_codes]
    ids = class_ids(columns, reps, node)
    n_classes = int(ids.max()) + 1
    sizes = np.bincount(ids, weights=base.sizes, minlength=n_classes)
    first = np.zeros(n_classes, dtype=np.int64)
    first[ids[::-1]] = base.representative[::-1]
    return ids, Classes(first, sizes.astype(np.float64))


def violating(
    comp: Compressed,
    ids: IntArray,
    k: int,
    l_div: int | None,
    t_close: float | None,
) -> npt.NDArray[np.bool_]:
    """Mask of distinct combinations whose class breaks k-anonymity, l-diversity or t-closeness."""
    n_classes = int(ids.max()) + 1 if len(ids) else 0
    sizes = np.bincount(ids, weights=comp.weights, minlength=n_classes)
    bad_class = sizes < k
    for codes, card in zip(comp.sensitive_codes, comp.sensitive_cards, strict=True):
        pair = ids * card + codes
        counts = np.bincount(pair, weights=comp.weights, minlength=n_classes * card)
        table = counts.reshape(n_classes, card)
        if l_div is not None:
            bad_class |= (table > 0).sum(axis=1) < l_div
        if t_close is not None:
            overall = table.sum(axis=0) / table.sum()
            shares = table / np.maximum(sizes[:, None], 1)
            bad_class |= 0.5 * np.abs(shares - overall).sum(axis=1) > t_close
    return bad_class[ids]
