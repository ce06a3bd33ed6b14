"""A distribution over the full joint domain, fitted to noisy marginals (Private-PGM's estimator).

The model is a table of expected counts over every combination of column values. It is fitted
by entropic mirror descent on the noise-weighted squared error of the measured marginals
(McKenna, Sheldon, Miklau 2019: the estimator of Private-PGM and AIM), which keeps the counts
non-negative, the marginals mutually consistent and the total fixed, and weighs each
measurement by how noisy it is. Clipping noisy marginals at zero and fitting them by iterative
proportional fitting, what we did before, inflates every small cell and halves the accuracy.

Speed: every marginal of every measured clique is read from the joint table with two matrix
products. The columns are split into a row block and a column block, the table is viewed as a
matrix P (rows x columns), and a clique's marginal is R_c^T P S_c, where R_c and S_c are 0/1
matrices mapping rows and columns to the clique's values; the S_c of all cliques are stacked,
so one product P S gives every clique's partial sums, and one product H S^T spreads every
clique's gradient back over the table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Clique = tuple[int, ...]


@dataclass(frozen=True)
class Measurement:
    """A noisy marginal: its clique (column indices), noisy counts and the noise's std."""

    clique: Clique
    values: np.ndarray
    sigma: float


class JointDomain:
    """Fast marginals and gradients of tables over ``shape`` for a fixed list of cliques."""

    def __init__(self, shape: Sequence[int], cliques: Sequence[Clique]) -> None:
        self.shape = tuple(int(s) for s in shape)
        self.cliques = [tuple(sorted(c)) for c in cliques]
        rows_axes = _best_split(self.shape, self.cliques)
        self.row_axes = rows_axes
        self.col_axes = tuple(a for a in range(len(self.shape)) if a not in rows_axes)
        self.order = self.row_axes + self.col_axes
        self.n_rows = math.prod(self.shape[a] for a in self.row_axes)
        self.n_cols = math.prod(self.shape[a] for a in self.col_axes)
        row_codes = _codes([self.shape[a] for a in self.row_axes])
        col_codes = _codes([self.shape[a] for a in self.col_axes])
        self._row_index: list[np.ndarray] = []
        self._row_indicator: list[np.ndarray] = []
        self._col_slices: list[slice] = []
        # Cliques with the same column-block axes share one block of the stacked matrix: with
        # all 3-way cliques of 10 columns, 120 cliques need only 26 blocks.
        slices: dict[tuple[int, ...], slice] = {}
        blocks: list[np.ndarray] = []
        start = 0
        for clique in self.cliques:
            in_rows = [i for i, a in enumerate(self.row_axes) if a in clique]
            in_cols = [i for i, a in enumerate(self.col_axes) if a in clique]
            row_index, row_size = _flat(row_codes, in_rows, self.row_axes, self.shape)
            self._row_index.append(row_index)
            self._row_indicator.append(np.eye(row_size)[row_index].T.copy())
            key = tuple(in_cols)
            if key not in slices:
                col_index, col_size = _flat(col_codes, in_cols, self.col_axes, self.shape)
                indicator = np.zeros((self.n_cols, col_size))
                indicator[np.arange(self.n_cols), col_index] = 1.0
                blocks.append(indicator)
                slices[key] = slice(start, start + col_size)
                start += col_size
            self._col_slices.append(slices[key])
        self._stacked = np.hstack(blocks) if blocks else np.zeros((self.n_cols, 0))

    def to_matrix(self, table: np.ndarray) -> np.ndarray:
        """The table (in column order) as a rows x columns matrix."""
        return np.ascontiguousarray(table.transpose(self.order)).reshape(self.n_rows, self.n_cols)

    def from_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Inverse of ``to_matrix``."""
        inner = matrix.reshape([self.shape[a] for a in self.order])
        return np.ascontiguousarray(inner.transpose(np.argsort(self.order)))

    def marginals(self, matrix: np.ndarray) -> list[np.ndarray]:
        """Every clique's marginal of the table given as a matrix, each shaped by its clique."""
        partial = matrix @ self._stacked
        out = []
        for k, clique in enumerate(self.cliques):
            summed = self._row_indicator[k] @ partial[:, self._col_slices[k]]
            out.append(self._reshape(summed, clique))
        return out

    def spread(self, gradients: Sequence[np.ndarray]) -> np.ndarray:
        """Sum of every clique's array broadcast over the table (the adjoint of marginals)."""
        spread = np.zeros((self.n_rows, self._stacked.shape[1]))
        for k, clique in enumerate(self.cliques):
            matrix = self._unshape(gradients[k], clique)
            spread[:, self._col_slices[k]] += matrix[self._row_index[k]]
        result: np.ndarray = spread @ self._stacked.T
        return result

    def _split_axes(self, clique: Clique) -> tuple[list[int], list[int]]:
        rows = [a for a in self.row_axes if a in clique]
        cols = [a for a in self.col_axes if a in clique]
        return rows, cols

    def _reshape(self, summed: np.ndarray, clique: Clique) -> np.ndarray:
        rows, cols = self._split_axes(clique)
        axes = rows + cols
        shaped = summed.reshape([self.shape[a] for a in axes])
        return shaped.transpose([axes.index(a) for a in clique])

    def _unshape(self, values: np.ndarray, clique: Clique) -> np.ndarray:
        rows, cols = self._split_axes(clique)
        moved = values.transpose([clique.index(a) for a in rows + cols])
        size = math.prod(self.shape[a] for a in rows)
        return np.ascontiguousarray(moved).reshape(size, -1)


def fit(
    domain: JointDomain,
    measurements: Sequence[Measurement],
    total: float,
    iterations: int = 200,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Expected counts over the joint domain (summing to ``total``) closest to the measurements.

    Minimises sum_m ||marginal_m(p) - y_m||^2 / sigma_m^2 over non-negative p with fixed
    total by entropic mirror descent with a backtracking (Armijo) step. Returns the table in
    the domain's matrix form.
    """
    weights = [1.0 / m.sigma**2 for m in measurements]
    size = domain.n_rows * domain.n_cols
    p = np.full((domain.n_rows, domain.n_cols), total / size) if start is None else start
    log_p = np.log(np.maximum(p, 1e-300))

    def loss_and_gradient(table: np.ndarray) -> tuple[float, np.ndarray]:
        residuals = [
            got - m.values for got, m in zip(domain.marginals(table), measurements, strict=True)
        ]
        loss = sum(float((r * r).sum()) * w for r, w in zip(residuals, weights, strict=True))
        gradient = domain.spread([2 * r * w for r, w in zip(residuals, weights, strict=True)])
        return loss, gradient

    loss, gradient = loss_and_gradient(p)
    step = 1.0
    for _ in range(iterations):
        while True:
            candidate = log_p - step * gradient
            candidate -= candidate.max()
            q = np.exp(candidate)
            q *= total / q.sum()
            new_loss, new_gradient = loss_and_gradient(q)
            if new_loss <= loss - 0.5 * float((gradient * (p - q)).sum()) or step < 1e-12:
                break
            step *= 0.5
        log_p, p, loss, gradient = np.log(np.maximum(q, 1e-300)), q, new_loss, new_gradient
        step *= 1.5
    return p


def _codes(sizes: list[int]) -> np.ndarray:
    """Every combination of the block's axes, one row each (row-major)."""
    if not sizes:
        return np.zeros((1, 0), dtype=np.int64)
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1)


def _flat(
    codes: np.ndarray, picked: list[int], block_axes: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[np.ndarray, int]:
    sizes = [shape[block_axes[i]] for i in picked]
    if not picked:
        return np.zeros(len(codes), dtype=np.int64), 1
    flat = np.ravel_multi_index(tuple(codes[:, i] for i in picked), sizes)
    return flat.astype(np.int64), math.prod(sizes)


def _best_split(shape: tuple[int, ...], cliques: list[Clique]) -> tuple[int, ...]:
    """Row axes that make the two matrix products cheapest (exhaustive for ≤ 14 columns)."""
    d = len(shape)
    total = math.prod(shape)

    def cost(rows: tuple[int, ...]) -> float:
        # Flops of the two products plus the regrouping of rows, which runs far below
        # the products' speed (narrow, strided blocks), hence its weight.
        n_rows = math.prod(shape[a] for a in rows)
        parts = {tuple(a for a in c if a not in rows) for c in cliques}
        stacked = sum(math.prod(shape[a] for a in part) for part in parts)
        regroup = sum(math.prod(shape[a] for a in c) for c in cliques)
        return total * stacked + 4 * n_rows * regroup

    candidates: list[tuple[int, ...]]
    if d <= 14:
        candidates = [c for r in range(d + 1) for c in itertools.combinations(range(d), r)]
    else:
        by_size = sorted(range(d), key=lambda a: -shape[a])
        candidates = [tuple(sorted(by_size[:r])) for r in range(d + 1)]
    return min(candidates, key=cost)
