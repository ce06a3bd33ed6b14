"""Utility of a synthetic table against the sensitive one, by attribute-value combinations.

As in synthetic-data-showcase: for every set of 1, 2 or 3 columns, count each combination of
non-blank values in both tables. MAE is over the union of combinations; suppressed are
sensitive combinations missing from the synthetic table, fabricated are synthetic
combinations that never occur in the sensitive one.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd


def combination_report(
    sensitive: pd.DataFrame, synthetic: pd.DataFrame, max_length: int = 3
) -> dict[str, Any]:
    """Per combination length: MAE, suppressed and fabricated shares; plus row-count deviation."""
    columns = list(sensitive.columns)
    codes_s, codes_y, cards = [], [], []
    for column in columns:
        both = pd.concat([sensitive[column], synthetic[column]]).astype("string")
        c, u = pd.factorize(both)
        codes_s.append(c[: len(sensitive)])
        codes_y.append(c[len(sensitive) :])
        cards.append(len(u) + 1)
    report: dict[str, Any] = {
        "rows_sensitive": len(sensitive),
        "rows_synthetic": len(synthetic),
        "row_count_deviation": (len(synthetic) - len(sensitive)) / len(sensitive),
    }
    for length in range(1, max_length + 1):
        errors, sens_total, supp, synth_total, fab = [], 0, 0, 0, 0
        for axes in itertools.combinations(range(len(columns)), length):
            size = int(np.prod([cards[a] for a in axes]))
            hist = []
            for codes in (codes_s, codes_y):
                valid = np.all([codes[a] >= 0 for a in axes], axis=0)
                flat = np.ravel_multi_index(
                    tuple(codes[a][valid] for a in axes), [cards[a] for a in axes]
                )
                hist.append(np.bincount(flat, minlength=size))
            s, y = hist
            union = (s > 0) | (y > 0)
            errors.append(np.abs(s - y)[union])
            sens_total += int((s > 0).sum())
            supp += int(((s > 0) & (y == 0)).sum())
            synth_total += int((y > 0).sum())
            fab += int(((y > 0) & (s == 0)).sum())
        report[f"{length}-way"] = {
            "mae": float(np.concatenate(errors).mean()),
            "combinations": sens_total,
            "suppressed_share": supp / max(sens_total, 1),
            "fabricated_share": fab / max(synth_total, 1),
        }
    return report
