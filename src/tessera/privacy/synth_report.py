"""Utility of a synthetic table against the sensitive one, by attribute-value combinations.

The definitions are those of Microsoft's synthetic-data-showcase and pac-synth evaluations
(``ErrorReport`` in their samples, ``Evaluator`` in their core), so our numbers and the
peers' are comparable. For every set of 1, 2 or 3 columns, count each combination of
non-blank values in both tables; then, per combination length:

- ``mae``: mean of |sensitive - synthetic| over the sensitive combinations that also occur
  in the synthetic table (suppressed ones are counted by ``suppressed_share`` instead);
- ``suppressed_share``: sensitive combinations missing from the synthetic table, over all
  sensitive combinations;
- ``fabricated_share``: synthetic combinations that never occur in the sensitive table,
  over all synthetic combinations; ``fabricated_of_sensitive`` divides the same count by the
  sensitive combinations instead, as the showcase's ``calc_fabricated_percentage`` does (it
  pools all lengths; here it is per length). The two differ by the ratio of the tables'
  combination counts (a few percent of the share on our output);
- ``mean_count``: mean sensitive count of a combination (the scale the error is read on).

``mae_union`` is the mean error over the union of both tables' combinations (a suppressed
combination errs by its sensitive count, a fabricated one by its synthetic count); it is
what this report called ``mae`` before it followed the showcase's definition, kept so older
numbers can be compared. A cell is one value: ``a;b`` in a multi-valued column is its own
category, as in pac-synth without ``multi_value_columns``.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd


def combination_report(
    sensitive: pd.DataFrame, synthetic: pd.DataFrame, max_length: int = 3
) -> dict[str, Any]:
    """Per combination length: MAE, suppressed and fabricated shares; plus row-count deviation.

    Args:
        sensitive: the input table (it is compared with, so the report is for its owner only).
        synthetic: a table with the same columns; blank cells (NA or ``""``) are not values.
        max_length: longest combination length reported.
    """
    columns = list(sensitive.columns)
    codes_s, codes_y, cards = [], [], []
    for column in columns:
        both = pd.concat([sensitive[column], synthetic[column]]).astype("string")
        c, u = pd.factorize(both.replace("", pd.NA))
        codes_s.append(c[: len(sensitive)])
        codes_y.append(c[len(sensitive) :])
        cards.append(max(len(u), 1))
    report: dict[str, Any] = {
        "rows_sensitive": len(sensitive),
        "rows_synthetic": len(synthetic),
        "row_count_deviation": (len(synthetic) - len(sensitive)) / max(len(sensitive), 1),
    }
    for length in range(1, max_length + 1):
        both_err, union_err, sens_counts = [], [], []
        sens_total = supp = synth_total = fab = 0
        for axes in itertools.combinations(range(len(columns)), length):
            s = _counts(codes_s, cards, axes)
            y = _counts(codes_y, cards, axes)
            in_s, in_y = s > 0, y > 0
            both_err.append(np.abs(s - y)[in_s & in_y])
            union_err.append(np.abs(s - y)[in_s | in_y])
            sens_counts.append(s[in_s])
            sens_total += int(in_s.sum())
            supp += int((in_s & ~in_y).sum())
            synth_total += int(in_y.sum())
            fab += int((in_y & ~in_s).sum())
        report[f"{length}-way"] = {
            "mae": _mean(both_err),
            "mae_union": _mean(union_err),
            "mean_count": _mean(sens_counts),
            "combinations": sens_total,
            "suppressed_share": supp / max(sens_total, 1),
            "fabricated_share": fab / max(synth_total, 1),
            "fabricated_of_sensitive": fab / max(sens_total, 1),
        }
    return report


def _counts(codes: list[np.ndarray], cards: list[int], axes: tuple[int, ...]) -> np.ndarray:
    valid = np.all([codes[a] >= 0 for a in axes], axis=0)
    shape = [cards[a] for a in axes]
    flat = np.ravel_multi_index(tuple(codes[a][valid] for a in axes), shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).astype(np.int64)


def _mean(parts: list[np.ndarray]) -> float:
    values = np.concatenate(parts) if parts else np.zeros(0)
    return float(values.mean()) if values.size else 0.0
