import numpy as np
import pandas as pd
import pytest

from tessera.privacy.errors import PrivacyError
from tessera.privacy.synth import rho_from_epsilon_delta, synthesise
from tessera.privacy.synth_report import combination_report


@pytest.fixture(scope="module")
def table(cases: pd.DataFrame) -> pd.DataFrame:
    return cases[["gender", "year_band", "exploitation", "means_of_control"]].head(5000)


def test_rho_conversion_meets_the_requested_epsilon() -> None:
    rho = rho_from_epsilon_delta(1.0, 1e-6)
    assert rho + 2 * np.sqrt(rho * np.log(1e6)) == pytest.approx(1.0)


def test_synthetic_table_keeps_columns_row_count_and_categories(table: pd.DataFrame) -> None:
    result = synthesise(table, epsilon=4.0, rng=np.random.default_rng(1))
    assert list(result.data.columns) == list(table.columns)
    assert abs(len(result.data) - len(table)) / len(table) < 0.02
    for column in table.columns:
        assert set(result.data[column].dropna()) <= set(table[column].dropna())


def test_more_budget_gives_smaller_two_way_error(table: pd.DataFrame) -> None:
    errors = [
        combination_report(
            table, synthesise(table, epsilon=e, rng=np.random.default_rng(2)).data, 2
        )["2-way"]["mae"]
        for e in (0.1, 10.0)
    ]
    assert errors[1] < errors[0]


def test_noise_scale_follows_the_budget(table: pd.DataFrame) -> None:
    low = synthesise(table, epsilon=0.5, rng=np.random.default_rng(3))
    high = synthesise(table, epsilon=2.0, rng=np.random.default_rng(3))
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
