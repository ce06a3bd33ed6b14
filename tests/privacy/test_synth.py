import itertools

import numpy as np
import opendp.prelude as dp
import pandas as pd
import pytest

from tessera.privacy.errors import PrivacyError
from tessera.privacy.keysets import keyset
from tessera.privacy.synth import _noisy, rho_from_epsilon_delta, synthesise, zcdp_rho
from tessera.privacy.synth_report import combination_report


@pytest.fixture(scope="module")
def table(cases: pd.DataFrame) -> pd.DataFrame:
    return cases[["gender", "year_band", "exploitation", "means_of_control"]].head(5000)


def test_rho_conversion_meets_the_requested_epsilon() -> None:
    rho = rho_from_epsilon_delta(1.0, 1e-6)
    assert rho + 2 * np.sqrt(rho * np.log(1e6)) == pytest.approx(1.0)


@pytest.mark.parametrize(("epsilon", "delta"), [(0.1, 1e-6), (1.0, 1e-5), (4.0, 1e-5), (8.0, 1e-9)])
def test_budget_by_opendp_conversion_never_exceeds_and_beats_the_textbook_bound(
    epsilon: float, delta: float
) -> None:
    rho = zcdp_rho(epsilon, delta)
    assert rho >= rho_from_epsilon_delta(epsilon, delta)

    def spent(r: float) -> float:
        gaussian = dp.m.make_gaussian(
            dp.atom_domain(T=float, nan=False),
            dp.absolute_distance(T=float),
            scale=1 / np.sqrt(2 * r),
        )
        return float(dp.c.make_zCDP_to_approxDP(gaussian).map(1.0).epsilon(delta))

    assert spent(rho) <= epsilon
    assert spent(rho * 1.01) > epsilon  # and it is tight


def test_noise_has_the_planned_scale() -> None:
    sigma = 7.0
    draws = _noisy(np.full(40_000, 50), sigma) - 50
    assert abs(draws.mean()) < 4 * sigma / np.sqrt(40_000)
    # the sample std of 40k normal draws is within 3% of sigma with overwhelming probability
    assert draws.std() == pytest.approx(sigma, rel=0.03)
    assert np.all(draws == np.round(draws))  # discrete Gaussian: integer counts


def test_synthetic_table_keeps_columns_row_count_and_categories(table: pd.DataFrame) -> None:
    result = synthesise(table, epsilon=4.0, rng=np.random.default_rng(1), categories_from_data=True)
    assert list(result.data.columns) == list(table.columns)
    assert abs(len(result.data) - len(table)) / len(table) < 0.02
    for column in table.columns:
        assert set(result.data[column].dropna()) <= set(table[column].dropna())


def test_more_budget_gives_smaller_two_way_error(table: pd.DataFrame) -> None:
    errors = [
        combination_report(
            table,
            synthesise(
                table, epsilon=e, rng=np.random.default_rng(2), categories_from_data=True
            ).data,
            2,
        )["2-way"]["mae"]
        for e in (0.1, 10.0)
    ]
    assert errors[1] < errors[0]


def test_noise_scale_follows_the_budget(table: pd.DataFrame) -> None:
    low = synthesise(
        table, epsilon=0.5, degree=2, rng=np.random.default_rng(3), categories_from_data=True
    )
    high = synthesise(
        table, epsilon=2.0, degree=2, rng=np.random.default_rng(3), categories_from_data=True
    )
    assert low.sigma > high.sigma
    pairs = 6
    assert high.sigma == pytest.approx(np.sqrt(pairs / (2 * high.rho)))


@pytest.mark.parametrize("epsilon", [0.0, -1.0])
def test_non_positive_epsilon_is_refused(table: pd.DataFrame, epsilon: float) -> None:
    with pytest.raises(PrivacyError, match="ε must be positive"):
        synthesise(table, epsilon=epsilon)


def test_empty_table_is_refused() -> None:
    with pytest.raises(PrivacyError, match="empty"):
        synthesise(pd.DataFrame({"a": []}), epsilon=1)


@pytest.mark.parametrize("delta", [0.0, 1.0, -0.1])
def test_delta_outside_the_open_unit_interval_is_refused(table: pd.DataFrame, delta: float) -> None:
    with pytest.raises(PrivacyError, match="δ must be in"):
        synthesise(table, epsilon=1.0, delta=delta, categories_from_data=True)


def test_with_a_huge_budget_the_fit_reproduces_every_two_way_marginal(
    table: pd.DataFrame,
) -> None:
    result = synthesise(
        table, epsilon=1e3, degree=2, rng=np.random.default_rng(6), categories_from_data=True
    )
    report = combination_report(table, result.data, 2)
    assert report["2-way"]["suppressed_share"] == 0
    assert report["2-way"]["mae"] < 2
    assert result.measured == [tuple(p) for p in itertools.combinations(table.columns, 2)]


MULTI = ["IP_Gender", "IP_Relation", "IP_PayMoney"]


def test_categories_come_from_public_key_sets_not_the_data(ctdc_vp: pd.DataFrame) -> None:
    columns = ["gender", "majorityStatus", "UN_COO_Region", "IP_Gender", "IP_Relation"]
    table = ctdc_vp[columns].head(3000).copy()
    table.loc[0, "UN_COO_Region"] = "Atlantis"  # a rare value a data-derived domain would leak
    result = synthesise(
        table, epsilon=2.0, rng=np.random.default_rng(5), multi_valued=["IP_Gender", "IP_Relation"]
    )
    assert "Atlantis" not in set(result.data["UN_COO_Region"].dropna())
    assert set(result.data["UN_COO_Region"].dropna()) <= set(keyset("UN_COO_Region"))
    assert set(result.data["IP_Gender"].dropna()) <= {"Female", "Male", "Female;Male"}
    assert abs(len(result.data) - len(table)) / len(table) < 0.02


def test_a_column_without_a_public_key_set_is_refused_unless_opted_in(
    table: pd.DataFrame,
) -> None:
    with pytest.raises(PrivacyError, match="no public key set for column 'year_band'"):
        synthesise(table, epsilon=1.0)


def test_a_degree_other_than_two_or_three_is_refused(table: pd.DataFrame) -> None:
    with pytest.raises(PrivacyError, match="degree must be 2 or 3"):
        synthesise(table, epsilon=1.0, degree=4, categories_from_data=True)


def test_three_way_measurements_alone_are_named_in_the_result(table: pd.DataFrame) -> None:
    result = synthesise(
        table,
        epsilon=2.0,
        degree=3,
        pair_share=0.0,
        rng=np.random.default_rng(8),
        categories_from_data=True,
    )
    assert result.measured == [tuple(t) for t in itertools.combinations(table.columns, 3)]
    assert result.sigma == pytest.approx(np.sqrt(4 / (2 * result.rho)))
    assert abs(len(result.data) - len(table)) / len(table) < 0.02


def test_pairs_and_triples_share_the_budget_without_exceeding_it(table: pd.DataFrame) -> None:
    result = synthesise(
        table,
        epsilon=1.0,
        degree=3,
        pair_share=0.5,
        rng=np.random.default_rng(9),
        categories_from_data=True,
    )
    pairs = [tuple(p) for p in itertools.combinations(table.columns, 2)]
    triples = [tuple(t) for t in itertools.combinations(table.columns, 3)]
    assert result.measured == pairs + triples
    assert result.rho_spent <= result.rho
    assert result.rho_spent == pytest.approx(result.rho, rel=1e-6)  # nothing left unused
    assert result.sigma == pytest.approx(np.sqrt(len(triples) / (2 * 0.5 * result.rho)))


@pytest.mark.parametrize("share", [-0.1, 1.0])
def test_a_pair_share_outside_zero_to_one_is_refused(table: pd.DataFrame, share: float) -> None:
    with pytest.raises(PrivacyError, match="pair_share must be in"):
        synthesise(table, epsilon=1.0, degree=3, pair_share=share, categories_from_data=True)


def test_with_a_huge_budget_pairs_and_triples_reproduce_every_three_way_marginal(
    table: pd.DataFrame,
) -> None:
    result = synthesise(
        table,
        epsilon=1e3,
        degree=3,
        pair_share=0.5,
        rng=np.random.default_rng(10),
        categories_from_data=True,
    )
    report = combination_report(table, result.data, 3)
    assert report["2-way"]["suppressed_share"] == 0
    assert report["3-way"]["mae"] < 2
