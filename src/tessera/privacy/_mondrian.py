"""Mondrian (strict multidimensional local recoding, LeFevre et al. 2006) over hierarchies.

Works on the distinct (quasi-identifier, sensitive) combinations of :mod:`_lattice` with their
weights. Each quasi-identifier's values are put in hierarchy order (siblings adjacent: values
sorted by their labels from the top level down), a partition is cut at the weighted median of
the dimension with the widest spread of values, and cutting stops when either half would hold
fewer than k records (or fewer than l distinct values of a sensitive column). Every partition is
then released with, per column, the most specific hierarchy label common to all its values, so
the output uses the same vocabulary as full-domain generalisation and its information loss is
measured the same way. No record is suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tessera.privacy._lattice import Compressed, EncodedColumn

IntArray = npt.NDArray[np.int64]


def _ranks(column: EncodedColumn) -> IntArray:
    """Rank of each original value code in hierarchy order."""
    height = len(column.maps) - 1
    keys = [column.maps[level] for level in range(height - 1, -1, -1)]
    order = np.lexsort(keys[::-1])  # last key is primary: the most general level first
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order))
    return ranks


def partition(
    columns: Sequence[EncodedColumn],
    comp: Compressed,
    k: int,
    l_diversity: int | None = None,
) -> IntArray:
    """Partition id of every distinct combination."""
    ranks = [_ranks(c)[codes] for c, codes in zip(columns, comp.qi_codes, strict=True)]
    spans = [max(int(r.max()), 1) for r in ranks]
    weights = comp.weights
    out = np.zeros(len(weights), dtype=np.int64)
    stack = [np.arange(len(weights))]
    next_id = 0
    while stack:
        members = stack.pop()
        total = float(weights[members].sum())
        cut = None
        if total >= 2 * k:
            local = [r[members] for r in ranks]
            widths = [
                (float(r.max() - r.min()) / s, d)
                for d, (r, s) in enumerate(zip(local, spans, strict=True))
            ]
            for _, d in sorted(widths, reverse=True):
                r = local[d]
                if r.min() == r.max():
                    break
                order = np.argsort(r, kind="stable")
                cum = np.cumsum(weights[members][order])
                median = r[order][int(np.searchsorted(cum, total / 2))]
                left = r <= median
                if left.all():
                    left = r < median
                w_left = float(weights[members][left].sum())
                if min(w_left, total - w_left) < k:
                    continue
                if l_diversity is not None and not all(
                    len(np.unique(s[members][side])) >= l_diversity
                    for s in comp.sensitive_codes
                    for side in (left, ~left)
                ):
                    continue
                cut = left
                break
        if cut is None:
            out[members] = next_id
            next_id += 1
        else:
            stack.append(members[~cut])
            stack.append(members[cut])
    return out


def recode_levels(columns: Sequence[EncodedColumn], comp: Compressed, parts: IntArray) -> IntArray:
    """Per combination and column, the lowest level at which its partition shares one label."""
    n_parts = int(parts.max()) + 1
    levels = np.zeros((len(parts), len(columns)), dtype=np.int64)
    for j, (column, codes) in enumerate(zip(columns, comp.qi_codes, strict=True)):
        chosen = np.full(n_parts, len(column.maps) - 1, dtype=np.int64)
        for level in range(len(column.maps) - 2, -1, -1):
            labels = column.maps[level][codes]
            low = np.full(n_parts, np.iinfo(np.int64).max)
            high = np.full(n_parts, -1)
            np.minimum.at(low, parts, labels)
            np.maximum.at(high, parts, labels)
            chosen = np.where(low == high, level, chosen)
        levels[:, j] = chosen[parts]
    return levels
