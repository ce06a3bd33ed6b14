"""k-anonymity by optimal full-domain generalisation with bounded suppression.

The search is a branch and bound over the generalisation lattice: each node's information
loss is bounded below by its generalisation loss alone (suppression only adds), and those
bounds are known before any data is grouped. Nodes are visited in order of that bound and the
search stops once no unvisited node can beat the best one found; nodes more specific than a
known failing node are skipped without grouping (k-anonymity is monotone in generalisation).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tessera.privacy import _lattice, _mondrian
from tessera.privacy.errors import PrivacyError
from tessera.privacy.hierarchies import MISSING, Hierarchy, infer_hierarchy_from_sample
from tessera.privacy.kanon_report import build_report


@dataclass(frozen=True)
class KAnonSpec:
    """What to protect and how.

    Args:
        quasi_identifiers: column → hierarchy; ``None`` infers one from the values.
        k: minimum equivalence-class size.
        sensitive: sensitive columns, reported (and constrained when ``l``/``t`` are set).
        l_diversity: distinct l-diversity each class must reach on every sensitive column.
        t_closeness: t-closeness bound (total variation distance) on every sensitive column.
        max_suppression: the largest share of records that may be withheld.
        max_levels: column → highest level allowed (e.g. keep citizenship at region: 2).
        method: ``lattice`` (one level per column, optimal by branch and bound) or
            ``mondrian`` (local recoding: each class gets the most specific common labels;
            no suppression; ``max_levels`` and ``t_closeness`` are not supported).
    """

    quasi_identifiers: Mapping[str, Hierarchy | None]
    k: int
    sensitive: Sequence[str] = ()
    l_diversity: int | None = None
    t_closeness: float | None = None
    max_suppression: float = 0.05
    max_levels: Mapping[str, int] = field(default_factory=dict)
    method: Literal["lattice", "mondrian"] = "lattice"


@dataclass
class KAnonResult:
    """The released table, the chosen level per quasi-identifier, and the risk/utility report."""

    data: pd.DataFrame
    levels: dict[str, str]
    report: dict[str, Any]


def _check(df: pd.DataFrame, spec: KAnonSpec) -> None:
    if df.empty:
        raise PrivacyError("the input table is empty")
    if not spec.quasi_identifiers:
        raise PrivacyError("no quasi-identifiers given")
    for column in [*spec.quasi_identifiers, *spec.sensitive, *spec.max_levels]:
        if column not in df.columns:
            raise PrivacyError(f"unknown column {column!r}; columns are {list(df.columns)}")
    if spec.k < 2:
        raise PrivacyError(f"k must be at least 2, got {spec.k}")
    if spec.k > len(df):
        raise PrivacyError(f"k={spec.k} is larger than the data ({len(df)} rows)")
    if not 0 <= spec.max_suppression < 1:
        raise PrivacyError("max_suppression must be in [0, 1)")
    if spec.method == "mondrian" and (spec.t_closeness is not None or spec.max_levels):
        raise PrivacyError("mondrian supports k and l-diversity only (no t, no max_levels)")


class _Search:
    """Evaluates lattice nodes, rolling classes up from evaluated more specific nodes."""

    def __init__(
        self, columns: list[_lattice.EncodedColumn], comp: _lattice.Compressed, spec: KAnonSpec
    ):
        self.columns, self.comp, self.spec = columns, comp, spec
        self.limit = spec.max_suppression * float(comp.weights.sum())
        self.bottom = _lattice.Classes(np.arange(len(comp.weights)), comp.weights)
        self.cache: dict[tuple[int, ...], _lattice.Classes] = {}
        self.failing = np.empty((0, len(columns)), dtype=np.int64)
        self.evaluated = 0
        self.seen: set[tuple[int, ...]] = set()

    def _base(self, node: tuple[int, ...]) -> _lattice.Classes:
        bases = [self.bottom]
        for j, level in enumerate(node):
            if level > 0:
                below = self.cache.get((*node[:j], level - 1, *node[j + 1 :]))
                if below is not None:
                    bases.append(below)
        return min(bases, key=lambda b: len(b.sizes))

    def evaluate(self, node: tuple[int, ...]) -> float | None:
        """Information loss of ``node``, or None when it needs more than the allowed suppression."""
        if len(self.failing) and bool((self.failing >= np.asarray(node)).all(axis=1).any()):
            return None
        if node in self.seen:
            return None
        self.seen.add(node)
        self.evaluated += 1
        spec, comp = self.spec, self.comp
        if spec.l_diversity is not None or spec.t_closeness is not None:
            ids = _lattice.class_ids(self.columns, comp.qi_codes, node)
            bad_rows = _lattice.violating(comp, ids, spec.k, spec.l_diversity, spec.t_closeness)
            classes = _lattice.Classes(np.arange(len(comp.weights)), comp.weights)
            bad = bad_rows
        else:
            _, classes = _lattice.roll_up(self.columns, comp, self._base(node), node)
            bad = classes.sizes < spec.k
            if len(classes.sizes) <= len(comp.weights) // 2:
                self.cache[node] = classes
        if float(classes.sizes[bad].sum()) > self.limit:
            self.failing = np.vstack([self.failing, np.asarray(node)])
            return None
        gen = np.mean(
            [
                col.unique_loss[lv][codes[classes.representative]]
                for col, codes, lv in zip(self.columns, comp.qi_codes, node, strict=True)
            ],
            axis=0,
        )
        # Multiply and sum instead of np.dot: BLAS threads spin on a busy machine and burn CPU.
        return float((classes.sizes * np.where(bad, 1.0, gen)).sum()) / float(comp.weights.sum())


def _climb(
    node: tuple[int, ...],
    tops: list[int],
    bound: Mapping[tuple[int, ...], float],
    ceiling: float,
    seen: set[tuple[int, ...]],
) -> tuple[int, ...]:
    """Raise levels one at a time, cheapest bound first, while the bound stays under ``ceiling``."""
    current = node
    while True:
        steps = [
            (*current[:j], current[j] + 1, *current[j + 1 :])
            for j in range(len(current))
            if current[j] < tops[j]
        ]
        steps = [s for s in steps if bound[s] < ceiling and s not in seen]
        if not steps:
            return current
        current = min(steps, key=bound.__getitem__)


def _as_text(column: pd.Series) -> pd.Series:
    return column.astype("string").fillna(MISSING).str.strip().astype(object)


def k_anonymise(
    df: pd.DataFrame, spec: KAnonSpec, population: pd.DataFrame | None = None
) -> KAnonResult:
    """Generalise quasi-identifiers until every equivalence class has at least k records.

    Args:
        df: the sensitive table.
        spec: quasi-identifiers, k and the other privacy models.
        population: optional wider table with the same quasi-identifiers, for journalist risk.

    Returns:
        The release (suppressed records removed), chosen levels and the report.

    Raises:
        PrivacyError: on unknown columns, k larger than the data, an empty table or values a
            hierarchy cannot generalise.
    """
    _check(df, spec)
    started = time.perf_counter()
    names = list(spec.quasi_identifiers)
    factorised = {n: _lattice.factorise_with_sample(df[n]) for n in names}
    hierarchies = {
        n: h if h is not None else infer_hierarchy_from_sample(factorised[n][2])
        for n, h in spec.quasi_identifiers.items()
    }
    columns = [
        _lattice.encode_factorised(n, factorised[n][0], factorised[n][1], hierarchies[n])
        for n in names
    ]
    comp = _lattice.compress(columns, [df[s] for s in spec.sensitive])
    total = float(len(df))
    col_loss = [
        [float((comp.weights * loss[c]).sum()) / total for loss in col.unique_loss]
        for col, c in zip(columns, comp.qi_codes, strict=True)
    ]
    if spec.method == "mondrian":
        return _mondrian_release(df, spec, names, hierarchies, columns, comp, started)
    tops = [min(hierarchies[n].height, spec.max_levels.get(n, 99)) for n in names]
    grid = np.array(list(itertools.product(*[range(t + 1) for t in tops])), dtype=np.int64)
    per_column = np.stack([np.asarray(col_loss[j])[grid[:, j]] for j in range(len(names))], axis=1)
    bounds = per_column.mean(axis=1)
    nodes: list[tuple[int, ...]] = [tuple(row) for row in grid.tolist()]
    bound = dict(zip(nodes, bounds.tolist(), strict=True))
    nodes.sort(key=bound.__getitem__)
    search = _Search(columns, comp, spec)
    best: tuple[float, tuple[int, ...]] | None = None
    for node in nodes:
        if best is not None and bound[node] >= best[0]:
            break
        # Probe a more general node first, as Flash walks paths: if it fails, this node and
        # everything below it fail without being grouped; if it passes it may lower the bar.
        ceiling = best[0] if best is not None else float("inf")
        probe = _climb(node, tops, bound, ceiling, search.seen)
        for candidate in (probe, node) if probe != node else (node,):
            loss = search.evaluate(candidate)
            if loss is not None and (best is None or loss < best[0]):
                best = (loss, candidate)
            if loss is None and candidate == probe:
                break
    if best is None:
        raise PrivacyError(
            f"no generalisation reaches k={spec.k} within {spec.max_suppression:.0%} suppression; "
            "raise max_suppression or allow higher levels"
        )
    node = best[1]
    chosen = _lattice.class_ids(columns, comp.qi_codes, node)
    bad = _lattice.violating(comp, chosen, spec.k, spec.l_diversity, spec.t_closeness)
    keep = ~bad[comp.row_index]
    groups = pd.factorize(chosen[comp.row_index][keep])[0]
    out = df.loc[keep].reset_index(drop=True)
    for col, level in zip(columns, node, strict=True):
        out[col.name] = _labels(col, level, col.codes[keep], out.index)
    levels = {n: hierarchies[n].level_names[lv] for n, lv in zip(names, node, strict=True)}
    search_info = {
        "method": "lattice",
        "nodes_total": len(nodes),
        "nodes_evaluated": search.evaluated,
        "seconds": round(time.perf_counter() - started, 4),
    }
    report = build_report(
        out,
        spec=spec,
        records_in=len(df),
        levels=levels,
        column_loss={
            col.name: float((comp.weights * np.where(bad, 1.0, col.unique_loss[lv][c])).sum())
            / total
            for col, c, lv in zip(columns, comp.qi_codes, node, strict=True)
        },
        population=None if population is None else _generalise(population, hierarchies, node),
        search=search_info,
        groups=groups,
    )
    return KAnonResult(out, levels, report)


def _labels(
    col: _lattice.EncodedColumn, level: int, codes: np.ndarray, index: pd.Index
) -> pd.Series:
    """Generalised labels of ``codes`` at ``level``; the missing label becomes ``pd.NA``."""
    table = col.labels[level].copy()
    table[table == MISSING] = pd.NA
    return pd.Series(table[col.maps[level][codes]], index=index, dtype=object)


def _generalise(
    frame: pd.DataFrame, hierarchies: Mapping[str, Hierarchy], node: Sequence[int]
) -> pd.DataFrame:
    missing = [n for n in hierarchies if n not in frame.columns]
    if missing:
        raise PrivacyError(f"population table lacks quasi-identifier columns {missing}")
    out = pd.DataFrame(index=frame.index)
    for (name, hierarchy), level in zip(hierarchies.items(), node, strict=True):
        text = _as_text(frame[name])
        mapping = {u: hierarchy.generalise(u, level) for u in text.unique()}
        out[name] = text.map(mapping).replace(MISSING, pd.NA)
    return out


def _mondrian_release(
    df: pd.DataFrame,
    spec: KAnonSpec,
    names: list[str],
    hierarchies: Mapping[str, Hierarchy],
    columns: list[_lattice.EncodedColumn],
    comp: _lattice.Compressed,
    started: float,
) -> KAnonResult:
    parts = _mondrian.partition(columns, comp, spec.k, spec.l_diversity)
    levels = _mondrian.recode_levels(columns, comp, parts)
    row_levels = levels[comp.row_index]
    out = df.copy()
    total = float(len(df))
    column_loss, used = {}, {}
    for j, col in enumerate(columns):
        labels = np.empty(len(df), dtype=object)
        loss = np.zeros(len(df))
        for level in np.unique(row_levels[:, j]).tolist():
            rows = row_levels[:, j] == level
            gen = col.maps[level][col.codes[rows]]
            labels[rows] = col.labels[level][gen]
            loss[rows] = col.unique_loss[level][col.codes[rows]]
        out[col.name] = pd.Series(labels, index=out.index, dtype=object).replace(MISSING, pd.NA)
        column_loss[col.name] = float(loss.sum()) / total
        shares = np.bincount(row_levels[:, j], minlength=len(col.maps)) / total
        names_j = hierarchies[col.name].level_names
        used[col.name] = {names_j[lv]: round(float(x), 4) for lv, x in enumerate(shares) if x}
    groups = pd.factorize(
        _lattice.combine(
            [
                (
                    pd.factorize(out[c].astype("string").fillna(MISSING))[0].astype(np.int64),
                    len(df) + 1,
                )
                for c in names
            ]
        )[0]
    )[0]
    levels_out = {n: "local recoding" for n in names}
    report = build_report(
        out.reset_index(drop=True),
        spec=spec,
        records_in=len(df),
        levels=levels_out,
        column_loss=column_loss,
        population=None,
        search={
            "method": "mondrian",
            "partitions": int(parts.max()) + 1,
            "level_shares": used,
            "seconds": round(time.perf_counter() - started, 4),
        },
        groups=groups,
    )
    return KAnonResult(out.reset_index(drop=True), levels_out, report)
