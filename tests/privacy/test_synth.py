import numpy as np
import pandas as pd
import pytest

from tessera.privacy.errors import PrivacyError
from tessera.privacy.keysets import keyset
from tessera.privacy.synth import rho_from_epsilon_delta, synthesise
from tessera.privacy.synth_report import combination_report


@pytest.fixture(scope="module")
def table(cases: pd.DataFrame) -> pd.DataFrame:
    return cases[["gender", "year_band", "exploitation", "means_of_control"]].head(5000)


def test_rho_conversion_meets_the_requested_epsilon() -> None:
    rho = rho_from_epsilon_delta(1.0, 1e-6)
    assert rho + 2 * np.sqrt(rho * np.log(1e6)) == pytest.approx(1.0)


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
    low = synthesise(table, epsilon=0.5, rng=np.random.default_rng(3), categories_from_data=True)
    high = synthesise(table, epsilon=2.0, rng=np.random.default_rng(3), categories_from_data=True)
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
    with pytest.raises(PrivacyError, match="no public key set"):
        synthesise(table, epsilon=1.0)


def test_mst_selection_spends_exactly_the_budget_and_keeps_the_domain(
    table: pd.DataFrame,
) -> None:
    result = synthesise(
        table,
        epsilon=2.0,
        rng=np.random.default_rng(4),
        categories_from_data=True,
        select=(0.1, 0.1),
        extra_pairs=1,
    )
    # 3 + 1 pairs measured with 80% of rho.
    assert result.sigma == pytest.approx(np.sqrt(4 / (2 * 0.8 * result.rho)))
    assert abs(len(result.data) - len(table)) / len(table) < 0.02
    for column in table.columns:
        assert set(result.data[column].dropna()) <= set(table[column].dropna())
