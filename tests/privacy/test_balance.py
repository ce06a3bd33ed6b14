"""Balancing a sample: same total, integer counts, smaller marginal error, no pruned cells used."""

import itertools

import numpy as np

from tessera.privacy._balance import balance_counts
from tessera.privacy._joint import JointDomain
from tessera.privacy.synth import _round


def _error(domain: JointDomain, counts: np.ndarray, expected: np.ndarray) -> float:
    return sum(
        float(np.abs(a - b).sum())
        for a, b in zip(domain.marginals(counts), domain.marginals(expected), strict=True)
    )


def test_balancing_keeps_the_total_and_shrinks_the_marginal_error() -> None:
    rng = np.random.default_rng(5)
    shape = (4, 3, 5, 2, 6, 3)
    cliques = [*itertools.combinations(range(len(shape)), 2)]
    domain = JointDomain(shape, cliques)
    table = rng.gamma(0.3, 1.0, shape)
    table *= 2000 / table.sum()  # mostly fractional cells: rounding errors add up
    expected = domain.to_matrix(table)
    sampled = domain.to_matrix(_round(table.ravel(), 2000, rng).reshape(shape))
    balanced = balance_counts(domain, expected, sampled)
    assert balanced.sum() == 2000
    assert balanced.min() >= 0
    np.testing.assert_array_equal(balanced, np.rint(balanced))
    assert _error(domain, balanced, expected) < 0.6 * _error(domain, sampled, expected)


def test_rows_never_move_into_cells_the_fit_left_empty() -> None:
    rng = np.random.default_rng(6)
    shape = (3, 4, 5)
    domain = JointDomain(shape, [(0, 1), (1, 2), (0, 2)])
    table = rng.gamma(0.5, 1.0, shape)
    table[table < 0.4] = 0.0  # pruned cells
    table *= 500 / table.sum()
    expected = domain.to_matrix(table)
    sampled = domain.to_matrix(_round(table.ravel(), 500, rng).reshape(shape))
    balanced = balance_counts(domain, expected, sampled)
    assert balanced[expected == 0].sum() == 0
