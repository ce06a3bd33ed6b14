"""Risk and utility report for a k-anonymous release."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tessera.privacy.kanon import KAnonSpec


def class_sizes(data: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Size of each record's equivalence class (missing values form their own value)."""
    if data.empty:
        return pd.Series(dtype=float)
    keys = data[columns].astype("string").fillna("\x00")
    return keys.groupby(columns, dropna=False)[columns[0]].transform("size").astype(float)


def sensitive_checks(
    data: pd.DataFrame, qis: list[str], sensitive: str, groups: np.ndarray | None = None
) -> dict[str, float]:
    """Distinct l-diversity (smallest) and t-closeness (largest distance) of one column.

    ``groups`` (class id of each row of ``data``), when the caller already knows it, saves
    grouping the generalised text again.
    """
    if data.empty:
        return {"l_diversity": 0, "t_closeness": 0.0}
    if groups is None:
        keys = data[qis].astype("string").fillna("\x00")
        groups = keys.groupby(qis, dropna=False).ngroup().to_numpy()
    values, _ = pd.factorize(data[sensitive].astype("string").fillna("\x00"))
    n_groups, n_values = int(groups.max()) + 1, int(values.max()) + 1
    table = np.bincount(groups * n_values + values, minlength=n_groups * n_values)
    table = table.reshape(n_groups, n_values).astype(float)
    overall = table.sum(axis=0) / table.sum()
    shares = table / table.sum(axis=1, keepdims=True)
    distance = 0.5 * np.abs(shares - overall).sum(axis=1)
    return {"l_diversity": int((table > 0).sum(axis=1).min()), "t_closeness": float(distance.max())}


def _risk(sizes: np.ndarray) -> dict[str, float]:
    if len(sizes) == 0:
        return {"highest": 0.0, "average": 0.0}
    risk = 1.0 / sizes
    return {"highest": float(risk.max()), "average": float(risk.mean())}


def build_report(
    data: pd.DataFrame,
    *,
    spec: KAnonSpec,
    records_in: int,
    levels: Mapping[str, str],
    column_loss: Mapping[str, float],
    population: pd.DataFrame | None,
    search: Mapping[str, Any],
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """Assemble the report: parameters, suppression, risks, information loss, l and t checks.

    ``groups``: the dense class id of each row of ``data``, if known (else grouped from text).
    """
    qis = list(spec.quasi_identifiers)
    if groups is not None and len(groups):
        sizes = np.bincount(groups)[groups].astype(float)
    else:
        sizes = class_sizes(data, qis).to_numpy()
    prosecutor = _risk(sizes)
    if population is None:
        journalist = {**prosecutor, "basis": "no population table given: upper bound"}
    else:
        pop_sizes = class_sizes(population, qis)
        lookup = pop_sizes.groupby(
            [population[c].astype("string").fillna("\x00") for c in qis], dropna=False
        ).first()
        keys = pd.MultiIndex.from_frame(data[qis].astype("string").fillna("\x00"))
        found = lookup.reindex(keys).to_numpy(dtype=float)
        found = np.where(np.isnan(found), sizes, np.maximum(found, sizes))
        journalist = {**_risk(found), "basis": "population table"}
    report: dict[str, Any] = {
        "model": {
            "k": spec.k,
            "l": spec.l_diversity,
            "t": spec.t_closeness,
            "max_suppression": spec.max_suppression,
        },
        "quasi_identifiers": qis,
        "sensitive": list(spec.sensitive),
        "records_in": records_in,
        "records_out": len(data),
        "records_suppressed": records_in - len(data),
        "suppressed_share": (records_in - len(data)) / records_in,
        "levels": dict(levels),
        "equivalence_classes": round(float((1.0 / sizes).sum())) if len(sizes) else 0,
        "smallest_class": int(sizes.min()) if len(sizes) else 0,
        "risk": {"prosecutor": prosecutor, "journalist": journalist},
        "information_loss": {**{k: round(v, 6) for k, v in column_loss.items()}},
        "search": dict(search),
    }
    report["information_loss"]["mean"] = round(float(np.mean(list(column_loss.values()))), 6)
    report["sensitive_checks"] = {s: sensitive_checks(data, qis, s, groups) for s in spec.sensitive}
    return report
