"""Differentially private counts, histograms and cross-tabs on OpenDP.

Categories come from a public key set (codebook or picklist), never from the data, so which
categories occur is not revealed; values outside the key set are not counted. Each record may
hold several values in a ``;`` cell: its contribution is capped at ``max_values`` per column,
and that cap sets the sensitivity. Noise is OpenDP's discrete Laplace; small-count rules run
afterwards, as post-processing, so they cost no budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import opendp.prelude as dp
import pandas as pd

from tessera.privacy.errors import PrivacyError
from tessera.privacy.ledger import BudgetLedger

dp.enable_features("contrib")


@dataclass(frozen=True)
class SmallCountRule:
    """Post-processing: negative counts become 0, counts below ``threshold`` are withheld."""

    threshold: int = 0

    def apply(self, counts: pd.Series) -> pd.Series:
        clipped = counts.clip(lower=0).astype("Int64")
        return clipped.where(clipped >= self.threshold, pd.NA) if self.threshold else clipped


def _values(column: pd.Series, max_values: int) -> list[list[str]]:
    cells = column.astype("string").fillna("")
    return [[v.strip() for v in c.split(";") if v.strip()][:max_values] for c in cells]


def _noisy(counts: np.ndarray, sensitivity: int, epsilon: float) -> np.ndarray:
    space = (dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int))
    measurement = dp.m.make_laplace(*space, scale=sensitivity / epsilon)
    privacy_map = cast(Callable[[int], float], measurement.map)
    if privacy_map(sensitivity) > epsilon * (1 + 1e-9):
        raise PrivacyError("internal error: the noise does not meet the requested ε")
    return np.asarray(measurement([int(c) for c in counts]), dtype=np.int64)


def dp_crosstab(
    df: pd.DataFrame,
    columns: Sequence[str],
    keys: Mapping[str, Sequence[str]],
    *,
    epsilon: float,
    ledger: BudgetLedger,
    max_values: int = 1,
    rule: SmallCountRule | None = None,
) -> pd.Series:
    """Noisy counts of every combination of public keys of ``columns`` (one column: a histogram).

    Args:
        df: the sensitive table.
        columns: one or more columns.
        keys: column → public categories.
        epsilon: ε for this query; charged to ``ledger`` before the answer is released.
        ledger: the dataset's budget ledger.
        max_values: values counted per multi-valued cell (sets the sensitivity).
        rule: small-count post-processing.

    Returns:
        Counts indexed by key combination.

    Raises:
        PrivacyError: for unknown columns, missing key sets, an empty table or ε ≤ 0.
        BudgetExceededError: when ε exceeds what the ledger has left.
    """
    if not epsilon > 0:
        raise PrivacyError(f"ε must be positive, got {epsilon}")
    if df.empty:
        raise PrivacyError("the input table is empty")
    for column in columns:
        if column not in df.columns:
            raise PrivacyError(f"unknown column {column!r}; columns are {list(df.columns)}")
        if not keys.get(column):
            raise PrivacyError(f"no public key set for column {column!r}")
    index = pd.MultiIndex.from_product([list(keys[c]) for c in columns], names=list(columns))
    position = {combo: i for i, combo in enumerate(index)}
    counts = np.zeros(len(index), dtype=np.int64)
    per_column = [_values(df[c], max_values) for c in columns]
    for row in zip(*per_column, strict=True):
        for combo in itertools.product(*row):
            i = position.get(combo)
            if i is not None:
                counts[i] += 1
    sensitivity = max_values ** len(columns)
    ledger.charge(epsilon, f"crosstab({', '.join(columns)})")
    noisy = pd.Series(_noisy(counts, sensitivity, epsilon), index=index, name="count")
    if len(columns) == 1:
        noisy.index = index.get_level_values(0)
    return (rule or SmallCountRule()).apply(noisy)


def dp_count(df: pd.DataFrame, *, epsilon: float, ledger: BudgetLedger) -> int:
    """Noisy number of records (sensitivity 1)."""
    if not epsilon > 0:
        raise PrivacyError(f"ε must be positive, got {epsilon}")
    ledger.charge(epsilon, "count")
    return max(int(_noisy(np.array([len(df)]), 1, epsilon)[0]), 0)
