"""The combination report follows synthetic-data-showcase's definitions (ErrorReport / Evaluator)."""

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from tessera.privacy.synth_report import combination_report


def _aggregates(df: pd.DataFrame, length: int) -> Counter[tuple[str, ...]]:
    """Count every combination of ``length`` non-blank column:value attributes, row by row."""
    counts: Counter[tuple[str, ...]] = Counter()
    for row in df.itertuples(index=False):
        attributes = [
            f"{c}:{v}" for c, v in zip(df.columns, row, strict=True) if isinstance(v, str) and v
        ]
        counts.update(itertools.combinations(attributes, length))
    return counts


def _showcase_report(sens: Counter, synth: Counter) -> dict[str, float]:
    both = [abs(sens[k] - synth[k]) for k in sens if k in synth]
    return {
        "mae": float(np.mean(both)) if both else 0.0,
        "suppressed_share": sum(k not in synth for k in sens) / len(sens),
        "fabricated_share": sum(k not in sens for k in synth) / len(synth),
        "fabricated_of_sensitive": sum(k not in sens for k in synth) / len(sens),
    }


def _random_table(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    values = {"a": ["x", "y", "z", None], "b": ["1", "2", None], "c": ["p", "q", "r", "s", ""]}
    return pd.DataFrame({c: rng.choice(np.array(v, dtype=object), rows) for c, v in values.items()})


@pytest.mark.parametrize("seed", range(5))
def test_report_matches_a_row_by_row_count_of_combinations(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sensitive, synthetic = _random_table(rng, 60), _random_table(rng, 55)
    report = combination_report(sensitive, synthetic)
    for length in (1, 2, 3):
        expected = _showcase_report(_aggregates(sensitive, length), _aggregates(synthetic, length))
        got = report[f"{length}-way"]
        for key, value in expected.items():
            assert got[key] == pytest.approx(value), (length, key)


def test_mae_leaves_out_suppressed_and_fabricated_combinations() -> None:
    sensitive = pd.DataFrame({"a": ["x"] * 10 + ["y"] * 2})
    synthetic = pd.DataFrame({"a": ["x"] * 7 + ["z"] * 5})
    one_way = combination_report(sensitive, synthetic, 1)["1-way"]
    assert one_way["mae"] == 3  # only x is in both
    assert one_way["mae_union"] == pytest.approx((3 + 2 + 5) / 3)
    assert one_way["suppressed_share"] == pytest.approx(1 / 2)  # y
    assert one_way["fabricated_share"] == pytest.approx(1 / 2)  # z
    assert one_way["mean_count"] == pytest.approx(6)


def test_blank_cells_are_not_values_and_row_deviation_is_signed() -> None:
    sensitive = pd.DataFrame({"a": ["x", "", None, "x"], "b": ["1", "1", "1", None]})
    synthetic = pd.DataFrame({"a": ["x", "x", pd.NA], "b": ["1", "", "1"]})
    report = combination_report(sensitive, synthetic)
    assert report["row_count_deviation"] == pytest.approx(-0.25)
    assert report["2-way"]["combinations"] == 1  # only (x, 1) in the first row
    assert report["2-way"]["mae"] == 0


def test_report_agrees_with_pac_synth_own_aggregates() -> None:
    pacsynth = pytest.importorskip("pacsynth", reason="pac-synth (bench extra) not installed")
    rng = np.random.default_rng(9)
    sensitive = _random_table(rng, 80).replace({"": None})
    synthetic = _random_table(rng, 70).replace({"": None})
    report = combination_report(sensitive, synthetic)

    def aggregates(df: pd.DataFrame, length: int) -> Counter[tuple[str, ...]]:
        found = pacsynth.Dataset.from_data_frame(df).get_aggregates(length, "|")
        return Counter(
            {tuple(k.split("|")): v for k, v in found.items() if k.count("|") == length - 1}
        )

    for length in (1, 2, 3):
        expected = _showcase_report(aggregates(sensitive, length), aggregates(synthetic, length))
        for key, value in expected.items():
            assert report[f"{length}-way"][key] == pytest.approx(value), (length, key)
