"""The joint-table model: fast marginals equal plain sums, and the fit recovers exact marginals."""

import itertools

import numpy as np
import pytest

from tessera.privacy._joint import JointDomain, Measurement, fit


def _marginal(table: np.ndarray, clique: tuple[int, ...]) -> np.ndarray:
    return table.sum(axis=tuple(a for a in range(table.ndim) if a not in clique))


SHAPES = [(3, 4, 2, 5), (2, 2, 2, 2, 3, 2), (7, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_marginals_and_spread_match_plain_numpy(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape))
    d = len(shape)
    cliques = [(a,) for a in range(d)] + [*itertools.combinations(range(d), 2)]
    cliques += [*itertools.islice(itertools.combinations(range(d), 3), 3), tuple(range(d))]
    domain = JointDomain(shape, cliques)
    table = rng.random(shape)
    got = domain.marginals(domain.to_matrix(table))
    for clique, marginal in zip(cliques, got, strict=True):
        np.testing.assert_allclose(marginal, _marginal(table, clique))
    arrays = [rng.random(m.shape) for m in got]
    expected = sum(
        a[tuple(slice(None) if i in c else None for i in range(d))]
        for a, c in zip(arrays, cliques, strict=True)
    )
    np.testing.assert_allclose(domain.from_matrix(domain.spread(arrays)), expected)


def test_fit_to_exact_marginals_reproduces_them_with_the_total() -> None:
    rng = np.random.default_rng(3)
    shape = (3, 4, 2, 5)
    truth = rng.poisson(rng.gamma(0.5, 20, shape)).astype(float)
    cliques = [*itertools.combinations(range(len(shape)), 2)]
    domain = JointDomain(shape, cliques)
    measured = [Measurement(c, _marginal(truth, c), 1.0) for c in cliques]
    fitted = domain.from_matrix(fit(domain, measured, truth.sum(), iterations=400))
    assert fitted.min() >= 0
    assert fitted.sum() == pytest.approx(truth.sum())
    for clique in cliques:
        np.testing.assert_allclose(_marginal(fitted, clique), _marginal(truth, clique), atol=0.5)


def test_fit_weighs_precise_measurements_more() -> None:
    shape = (2, 2)
    domain = JointDomain(shape, [(0,), (0,)])
    precise = Measurement((0,), np.array([80.0, 20.0]), 1.0)
    noisy = Measurement((0,), np.array([20.0, 80.0]), 10.0)
    fitted = domain.from_matrix(fit(domain, [precise, noisy], 100.0, iterations=300))
    assert _marginal(fitted, (0,))[0] == pytest.approx(80 - 60 / 101, abs=0.5)


def test_pruning_removes_exactly_the_cells_of_small_clique_combinations() -> None:
    from tessera.privacy.synth import _pruned

    shape = (2, 3, 2)
    cliques = [(0, 1), (1, 2)]
    domain = JointDomain(shape, cliques)
    table = np.full(shape, 10.0)
    table[1, 2, :] = 0.5  # (x0=1, x1=2) totals 1 row: below the threshold
    pruned = domain.from_matrix(_pruned(domain, domain.to_matrix(table), threshold=2.0))
    assert np.all(pruned[1, 2, :] == 0)
    mask = np.ones(shape, dtype=bool)
    mask[1, 2, :] = False
    np.testing.assert_array_equal(pruned[mask], table[mask])
