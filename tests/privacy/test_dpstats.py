import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tessera.privacy._generate import DICT_NAME, KEYSETS_JSON, _enumerations, build_keysets
from tessera.privacy.dpstats import SmallCountRule, dp_count, dp_crosstab
from tessera.privacy.errors import BudgetExceededError, PrivacyError
from tessera.privacy.keysets import keyset
from tessera.privacy.ledger import BudgetLedger


def test_committed_keysets_match_the_codebooks(ctdc_vp_path: Path) -> None:
    expected = build_keysets(ctdc_vp_path / DICT_NAME, _enumerations())
    assert json.loads(KEYSETS_JSON.read_text()) == expected


def test_histogram_uses_only_public_keys_even_for_categories_absent_from_data(
    ctdc_vp: pd.DataFrame,
) -> None:
    ledger = BudgetLedger("ctdc", 10.0)
    keys = {"UN_COO_Region": [*keyset("UN_COO_Region"), "Antarctica"]}
    hist = dp_crosstab(ctdc_vp, ["UN_COO_Region"], keys, epsilon=1.0, ledger=ledger)
    assert list(hist.index) == keys["UN_COO_Region"]
    assert abs(int(hist["Asia"]) - 6139) < 60


def test_laplace_noise_has_the_scale_epsilon_implies() -> None:
    # 4000 cells of one histogram give 4000 independent noise draws; the variance of discrete
    # Laplace with scale b is close to 2b^2. A 15% band is > 8 standard errors wide.
    keys = {"v": [str(i) for i in range(4000)]}
    df = pd.DataFrame({"v": ["0"] * 50})
    for epsilon, max_values in [(0.5, 1), (1.0, 1), (1.0, 2)]:
        noisy = dp_crosstab(
            df,
            ["v"],
            keys,
            epsilon=epsilon,
            ledger=BudgetLedger("x", 10),
            max_values=max_values,
            rule=None,
        )
        noise = noisy.drop("0").to_numpy(dtype=float)
        # Negative values were clipped to 0 by the default rule; the positive tail of discrete
        # Laplace with scale b is geometric with mean 1 / (1 - exp(-1/b)).
        upper = noise[noise > 0]
        expected_mean = 1 / (1 - np.exp(-epsilon / max_values))
        assert 0.9 * expected_mean < upper.mean() < 1.1 * expected_mean


def test_noise_without_clipping_is_centred_with_variance_2b2() -> None:
    from tessera.privacy.dpstats import _noisy

    for epsilon in (0.25, 1.0):
        draws = _noisy(np.zeros(20000, dtype=np.int64), 1, epsilon).astype(float)
        b = 1 / epsilon
        assert abs(draws.mean()) < 0.1 * b + 0.05
        assert 0.85 * 2 * b * b < draws.var() < 1.15 * 2 * b * b + 0.3


def test_ledger_refuses_queries_beyond_the_budget_and_records_every_spend(
    tmp_path: Path, cases: pd.DataFrame
) -> None:
    path = tmp_path / "ledger.json"
    ledger = BudgetLedger.open(path, "cases", epsilon_total=1.0)
    keys = {"gender": ["Female", "Male"]}
    dp_crosstab(cases, ["gender"], keys, epsilon=0.6, ledger=ledger)
    dp_count(cases, epsilon=0.4, ledger=ledger)
    with pytest.raises(BudgetExceededError, match="only ε=0 of 1 remains"):
        dp_crosstab(cases, ["gender"], keys, epsilon=0.01, ledger=ledger)
    reopened = BudgetLedger.open(path)
    assert [e["query"] for e in reopened.entries] == ["crosstab(gender)", "count"]
    assert reopened.spent == pytest.approx(1.0)
    with pytest.raises(BudgetExceededError):
        dp_count(cases, epsilon=0.5, ledger=reopened)
    assert len(BudgetLedger.open(path).entries) == 2


def test_small_count_rule_withholds_small_cells_after_noise() -> None:
    out = SmallCountRule(threshold=5).apply(pd.Series([-3, 2, 5, 40]))
    assert out.isna().tolist() == [True, True, False, False]


@pytest.mark.parametrize("epsilon", [0, -1.0])
def test_non_positive_epsilon_is_refused(cases: pd.DataFrame, epsilon: float) -> None:
    with pytest.raises(PrivacyError, match="ε must be positive"):
        dp_crosstab(
            cases, ["gender"], {"gender": ["Male"]}, epsilon=epsilon, ledger=BudgetLedger("x", 1)
        )
    with pytest.raises(PrivacyError, match="budget must be positive"):
        BudgetLedger("x", epsilon)


def test_unknown_columns_and_missing_keysets_are_named(cases: pd.DataFrame) -> None:
    with pytest.raises(PrivacyError, match="unknown column 'colour'"):
        dp_crosstab(cases, ["colour"], {"colour": ["red"]}, epsilon=1, ledger=BudgetLedger("x", 1))
    with pytest.raises(PrivacyError, match="no public key set for column 'gender'"):
        dp_crosstab(cases, ["gender"], {}, epsilon=1, ledger=BudgetLedger("x", 1))
    with pytest.raises(PrivacyError, match="no public key set named"):
        keyset("nope")
