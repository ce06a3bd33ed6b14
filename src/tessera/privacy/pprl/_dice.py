"""Compiled Dice kernels (numba), with the numpy versions as a fallback.

The all-pairs kernel compares every record of A with a tile of 1024 records of B (128 KiB at
1024 bits, so the tile stays in L2), eight 64-bit words of the A record held in registers at a
time. Each comparison ANDs packed words and counts bits with LLVM's ``ctpop`` (one ``popcnt``
instruction per word); only pairs at or above the threshold are written out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

try:  # pragma: no cover - exercised on machines without numba through the fallback tests
    import numba
    from llvmlite import ir  # type: ignore[import-untyped]
    from numba import types
    from numba.extending import intrinsic

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

IntArray = npt.NDArray[np.int64]
_TILE_B = 1024

if HAVE_NUMBA:

    def _ctpop(typingctx: Any, value: Any) -> Any:
        sig = types.uint64(types.uint64)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            function = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
            return builder.call(function, args)

        return sig, codegen

    _popcount: Any = intrinsic(_ctpop)
    _jit: Any = numba.njit(cache=True, nogil=True, boundscheck=False)

    @_jit
    def _pairs_kernel(
        a: Any,
        b: Any,
        offset_a: Any,
        offset_b: Any,
        weight_a: Any,
        weight_b: Any,
        scale: float,
        threshold: float,
        out_i: Any,
        out_j: Any,
        out_c: Any,
    ) -> int:
        n_a, n_words = a.shape
        n_b = b.shape[0]
        capacity = out_i.shape[0]
        found = 0
        common = np.zeros(_TILE_B, dtype=np.uint64)
        full = n_words - n_words % 8
        for j0 in range(0, n_b, _TILE_B):
            j1 = min(j0 + _TILE_B, n_b)
            for i in range(n_a):
                common[:] = 0
                # Eight words of the A record in registers against the whole B tile.
                for w in range(0, full, 8):
                    a0, a1, a2, a3 = a[i, w], a[i, w + 1], a[i, w + 2], a[i, w + 3]
                    a4, a5, a6, a7 = a[i, w + 4], a[i, w + 5], a[i, w + 6], a[i, w + 7]
                    for j in range(j0, j1):
                        common[j - j0] += (
                            _popcount(a0 & b[j, w])
                            + _popcount(a1 & b[j, w + 1])
                            + _popcount(a2 & b[j, w + 2])
                            + _popcount(a3 & b[j, w + 3])
                            + _popcount(a4 & b[j, w + 4])
                            + _popcount(a5 & b[j, w + 5])
                            + _popcount(a6 & b[j, w + 6])
                            + _popcount(a7 & b[j, w + 7])
                        )
                for w in range(full, n_words):
                    aw = a[i, w]
                    for j in range(j0, j1):
                        common[j - j0] += _popcount(aw & b[j, w])
                wa, oa = weight_a[i], offset_a[i]
                for j in range(j0, j1):
                    c = oa + offset_b[j] + scale * common[j - j0]
                    if 2.0 * c >= threshold * (wa + weight_b[j]):
                        if found < capacity:
                            out_i[found] = i
                            out_j[found] = j
                            out_c[found] = c
                        found += 1
        return found

    @_jit
    def _pairs_kernel8(
        a: Any,
        b: Any,
        offset_a: Any,
        offset_b: Any,
        weight_a: Any,
        weight_b: Any,
        scale: float,
        threshold: float,
        out_i: Any,
        out_j: Any,
        out_c: Any,
    ) -> int:
        """:func:`_pairs_kernel` for exactly 8 words and an even number of A records.

        Two A records (16 words in registers) share each load of a B record.
        """
        n_a, n_b = a.shape[0], b.shape[0]
        capacity = out_i.shape[0]
        found = 0
        for j0 in range(0, n_b, _TILE_B):
            j1 = min(j0 + _TILE_B, n_b)
            for i in range(0, n_a, 2):
                x0, x1, x2, x3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
                x4, x5, x6, x7 = a[i, 4], a[i, 5], a[i, 6], a[i, 7]
                y0, y1, y2, y3 = a[i + 1, 0], a[i + 1, 1], a[i + 1, 2], a[i + 1, 3]
                y4, y5, y6, y7 = a[i + 1, 4], a[i + 1, 5], a[i + 1, 6], a[i + 1, 7]
                for j in range(j0, j1):
                    b0, b1, b2, b3 = b[j, 0], b[j, 1], b[j, 2], b[j, 3]
                    b4, b5, b6, b7 = b[j, 4], b[j, 5], b[j, 6], b[j, 7]
                    c0 = (
                        _popcount(x0 & b0)
                        + _popcount(x1 & b1)
                        + _popcount(x2 & b2)
                        + _popcount(x3 & b3)
                        + _popcount(x4 & b4)
                        + _popcount(x5 & b5)
                        + _popcount(x6 & b6)
                        + _popcount(x7 & b7)
                    )
                    c1 = (
                        _popcount(y0 & b0)
                        + _popcount(y1 & b1)
                        + _popcount(y2 & b2)
                        + _popcount(y3 & b3)
                        + _popcount(y4 & b4)
                        + _popcount(y5 & b5)
                        + _popcount(y6 & b6)
                        + _popcount(y7 & b7)
                    )
                    s0 = offset_a[i] + offset_b[j] + scale * c0
                    if 2.0 * s0 >= threshold * (weight_a[i] + weight_b[j]):
                        if found < capacity:
                            out_i[found], out_j[found], out_c[found] = i, j, s0
                        found += 1
                    s1 = offset_a[i + 1] + offset_b[j] + scale * c1
                    if 2.0 * s1 >= threshold * (weight_a[i + 1] + weight_b[j]):
                        if found < capacity:
                            out_i[found], out_j[found], out_c[found] = i + 1, j, s1
                        found += 1
        return found

    @_jit
    def _greedy_kernel(order: Any, i: Any, j: Any, n_a: int, n_b: int, keep: Any) -> None:
        used_a = np.zeros(n_a, dtype=np.bool_)
        used_b = np.zeros(n_b, dtype=np.bool_)
        for k in order:
            if not used_a[i[k]] and not used_b[j[k]]:
                used_a[i[k]] = True
                used_b[j[k]] = True
                keep[k] = True

    @_jit
    def _listed_kernel(a: Any, b: Any, i: Any, j: Any, out: Any) -> None:
        n_words = a.shape[1]
        for k in range(i.shape[0]):
            common = np.uint64(0)
            for w in range(n_words):
                common += _popcount(a[i[k], w] & b[j[k], w])
            out[k] = common


def weights(bits: npt.NDArray[np.uint64]) -> IntArray:
    """Hamming weight of each encoding."""
    out: IntArray = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
    return out


def complement_halves(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]] | None:
    """For balanced encodings, one bit of every (bit, complement) pair; None if not balanced.

    A balanced encoding is ``x`` and its complement under a keyed permutation. Which two
    positions form a pair is visible to anyone holding a few hundred encodings (the two
    columns are exact complements), so finding them reveals nothing new; it halves the work,
    since for halves ``x``, ``y`` of length L the full common count is
    ``L - |x| - |y| + 2|x & y|``. Every record is checked, so the result is exact.
    """
    bits = np.concatenate([a, b])
    if bits.shape[1] % 2:
        return None
    columns = np.unpackbits(bits.view(np.uint8), axis=1).T.copy()  # positions x records
    n_pos = columns.shape[0]
    rows = min(4096, columns.shape[1] - columns.shape[1] % 8)  # whole bytes: no padding bits
    if rows < 64:
        return None
    sample = np.packbits(columns[:, :rows], axis=1)
    signature = {row.tobytes(): p for p, row in enumerate(sample)}
    if len(signature) != n_pos:
        return None
    partner = np.array([signature.get((~row).tobytes(), -1) for row in sample])
    if (partner < 0).any() or (partner[partner] != np.arange(n_pos)).any():
        return None
    keep = np.flatnonzero(np.arange(n_pos) < partner)
    if len(keep) * 2 != n_pos or len(keep) % 64:
        return None
    half = columns[keep]
    if not np.array_equal(half, 1 - columns[partner[keep]]):
        return None
    packed = np.ascontiguousarray(np.packbits(half.T, axis=1)).view(np.uint64)
    return packed[: len(a)], packed[len(a) :]


def _expected_pairs(
    a: npt.NDArray[np.uint64],
    b: npt.NDArray[np.uint64],
    offset_a: npt.NDArray[np.float64],
    offset_b: npt.NDArray[np.float64],
    weight_a: npt.NDArray[np.float64],
    weight_b: npt.NDArray[np.float64],
    scale: float,
    threshold: float,
) -> int:
    """Room for the pairs above ``threshold``, estimated on a sample of A (so a low threshold
    does not run the whole comparison twice)."""
    rows = np.linspace(0, len(a) - 1, min(len(a), 256)).astype(np.int64)
    room = max(1024, 4 * len(b))
    out = np.empty(room, dtype=np.int64), np.empty(room, dtype=np.int64), np.empty(room)
    found = int(
        _pairs_kernel(
            np.ascontiguousarray(a[rows]),
            np.ascontiguousarray(b),
            offset_a[rows],
            offset_b,
            weight_a[rows],
            weight_b,
            scale,
            float(threshold),
            *out,
        )
    )
    return max(1024, 4 * (len(a) + len(b)), int(1.25 * found * len(a) / len(rows)) + 1024)


def all_pairs(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], threshold: float
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]] | None:
    """Every pair (i, j) with Dice ≥ threshold and its score; None without numba."""
    if not HAVE_NUMBA:
        return None
    weight_a, weight_b = weights(a).astype(np.float64), weights(b).astype(np.float64)
    halves = complement_halves(a, b)
    if halves is None:
        work_a, work_b, scale = a, b, 1.0
        offset_a, offset_b = np.zeros(len(a)), np.zeros(len(b))
    else:
        work_a, work_b = halves
        length = work_a.shape[1] * 64
        offset_a = length / 2 - weights(work_a).astype(np.float64)
        offset_b = length / 2 - weights(work_b).astype(np.float64)
        scale = 2.0
    capacity = _expected_pairs(
        work_a, work_b, offset_a, offset_b, weight_a, weight_b, scale, threshold
    )
    while True:
        out_i = np.empty(capacity, dtype=np.int64)
        out_j = np.empty(capacity, dtype=np.int64)
        out_c = np.empty(capacity, dtype=np.float64)
        even = len(a) - len(a) % 2 if work_a.shape[1] == 8 else 0
        found = 0
        for kernel, rows in ((_pairs_kernel8, slice(0, even)), (_pairs_kernel, slice(even, None))):
            if rows.start == len(a):
                continue
            part = int(
                kernel(
                    np.ascontiguousarray(work_a[rows]),
                    np.ascontiguousarray(work_b),
                    offset_a[rows],
                    offset_b,
                    weight_a[rows],
                    weight_b,
                    scale,
                    float(threshold),
                    out_i[found:],
                    out_j[found:],
                    out_c[found:],
                )
            )
            out_i[found : found + part] += rows.start
            found += part
        if found <= capacity:
            break
        capacity = found
    i, j, c = out_i[:found], out_j[:found], out_c[:found]
    return i, j, 2.0 * c / np.maximum(weight_a[i] + weight_b[j], 1.0)


def greedy_one_to_one(order: IntArray, i: IntArray, j: IntArray) -> npt.NDArray[np.bool_]:
    """Walk pairs in ``order`` and keep each whose two records are both still free."""
    keep = np.zeros(len(i), dtype=bool)
    if not len(i):
        return keep
    n_a, n_b = int(i.max()) + 1, int(j.max()) + 1
    if HAVE_NUMBA:
        _greedy_kernel(order, i, j, n_a, n_b, keep)
        return keep
    used_a, used_b = np.zeros(n_a, dtype=bool), np.zeros(n_b, dtype=bool)
    for k in order.tolist():
        if not used_a[i[k]] and not used_b[j[k]]:
            used_a[i[k]] = used_b[j[k]] = keep[k] = True
    return keep


def listed_pairs(
    a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64], i: IntArray, j: IntArray
) -> IntArray | None:
    """Common set bits of the listed pairs; None without numba."""
    if not HAVE_NUMBA:
        return None
    out: IntArray = np.empty(len(i), dtype=np.int64)
    _listed_kernel(np.ascontiguousarray(a), np.ascontiguousarray(b), i, j, out)
    return out
