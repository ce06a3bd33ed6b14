"""Generalisation hierarchies for quasi-identifiers.

A hierarchy maps an original value to a coarser one at each level: level 0 is the value itself
and the top level is ``*`` (fully suppressed). Multi-valued cells (``Female;Male``) are
generalised element by element and re-joined as a sorted set, so ``Kenya;Uganda`` becomes
``Eastern Africa`` at the subregion level.
"""

from __future__ import annotations

import bisect
import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from tessera.privacy.errors import PrivacyError

TOP = "*"
MISSING = ""
SEPARATOR = ";"
INFERENCE_SAMPLE = 200


class Hierarchy:
    """Base class: subclasses implement ``level_names`` and ``_map`` for one element."""

    level_names: tuple[str, ...] = ("value", "suppressed")

    @property
    def height(self) -> int:
        """Index of the top level (``*``)."""
        return len(self.level_names) - 1

    def _map(self, element: str, level: int) -> str:
        raise NotImplementedError

    def generalise(self, value: str, level: int) -> str:
        """Generalise one cell (possibly multi-valued) to ``level``."""
        if level >= self.height:
            return TOP
        if value == MISSING or level == 0:
            return value
        parts = {self._map(part.strip(), level) for part in value.split(SEPARATOR)}
        return SEPARATOR.join(sorted(parts))

    def generalise_many(self, values: Sequence[str], level: int) -> list[str]:
        """:meth:`generalise` of many cells (subclasses may vectorise)."""
        return [self.generalise(v, level) for v in values]

    def generalise_levels(self, values: Sequence[str]) -> list[list[str]]:
        """:meth:`generalise_many` at every level strictly between the value and ``*``."""
        return [self.generalise_many(values, level) for level in range(1, self.height)]

    def validate(self, values: Sequence[str], column: str) -> None:
        """Raise PrivacyError naming the column if some value cannot be generalised."""
        for value in values:
            if value != MISSING:
                for part in value.split(SEPARATOR):
                    try:
                        self._map(part.strip(), 1)
                    except (KeyError, ValueError) as exc:
                        raise PrivacyError(
                            f"column {column!r}: cannot generalise value {part!r} ({exc})"
                        ) from None


class SuppressionHierarchy(Hierarchy):
    """Two levels only: the value, or ``*``. The default for plain categories."""

    def _map(self, element: str, level: int) -> str:
        return element


@dataclass
class IntervalHierarchy(Hierarchy):
    """Numeric values cut into nested bands, one list of cut points per level.

    Args:
        cuts: for each level above 0, ascending lower bounds of its bands; every level's cut
            points must include the next level's so that bands nest.
        names: a name per level above 0 (used in reports).
    """

    cuts: Sequence[Sequence[float]]
    names: Sequence[str] = ()
    level_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        for lower, upper in zip(self.cuts, self.cuts[1:], strict=False):
            if not set(upper) <= set(lower):
                raise PrivacyError(f"interval bands do not nest: {upper} not within {lower}")
        names = list(self.names) or [f"bands{i + 1}" for i in range(len(self.cuts))]
        self.level_names = ("value", *names, "suppressed")

    def _map(self, element: str, level: int) -> str:
        number = float(element)
        if math.isnan(number):
            raise ValueError("not a number")
        cuts = self.cuts[level - 1]
        i = bisect.bisect_right(cuts, number) - 1
        if i < 0:
            return f"<{_fmt(cuts[0])}"
        if i == len(cuts) - 1:
            return f"{_fmt(cuts[i])}+"
        return f"{_fmt(cuts[i])}-{_fmt(cuts[i + 1] - 1)}"


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def age_hierarchy() -> IntervalHierarchy:
    """Age: exact → 3-year bands → CTDC ageBroad bands → four bands → minor/adult → ``*``."""
    three = [float(x) for x in range(0, 49, 3)]
    broad = [0.0, 9, 18, 21, 24, 27, 30, 39, 48]
    return IntervalHierarchy(
        cuts=[three, broad, [0.0, 18, 30, 48], [0.0, 18]],
        names=["3-year", "ctdc-broad", "4-band", "minor/adult"],
    )


@dataclass(frozen=True)
class _Country:
    subregion: str
    region: str


@cache
def _country_table() -> dict[str, _Country]:
    text = resources.files("tessera.privacy").joinpath("data/un_regions.csv").read_text("utf-8")
    table: dict[str, _Country] = {}
    for row in csv.DictReader(text.splitlines()):
        entry = _Country(row["subregion"], row["region"])
        for key in (row["iso3"], row["iso2"], row["country"]):
            if key:
                table[key.casefold()] = entry
    return table


class CountryHierarchy(Hierarchy):
    """Country (ISO3, ISO2 or English name) → UN subregion → UN region → ``*``.

    The lookup is generated from the CTDC dictionary's Region sheet into the package.
    """

    level_names = ("country", "subregion", "region", "suppressed")

    def _map(self, element: str, level: int) -> str:
        entry = _country_table().get(element.casefold())
        if entry is None:
            raise KeyError("not a known country code or name")
        return entry.subregion if level == 1 else entry.region


@dataclass
class DateHierarchy(Hierarchy):
    """Date → month → year → multi-year band (``band_years`` wide) → ``*``."""

    band_years: int = 5
    level_names: tuple[str, ...] = ("date", "month", "year", "years", "suppressed")

    def generalise_many(self, values: Sequence[str], level: int) -> list[str]:
        """Vectorised for single dates (one pandas parse for all); else cell by cell."""
        if level == 0 or level >= self.height:
            return super().generalise_many(values, level)
        return self.generalise_levels(values)[level - 1]

    def validate(self, values: Sequence[str], column: str) -> None:
        """One vectorised parse; cell by cell (to name the bad value) only if it fails."""
        if self._parse_all(values) is None:
            super().validate(values, column)

    def _parse_all(self, values: Sequence[str]) -> tuple[np.ndarray, pd.Series] | None:
        """(mask of non-missing values, their timestamps), or None if some cell is not a date."""
        if any(SEPARATOR in v for v in values):
            return None
        present = np.array([v != MISSING for v in values], dtype=bool)
        texts = pd.Series(values, dtype=object)[present]
        # ISO dates (the common case) parse an order of magnitude faster than "mixed".
        stamps = pd.to_datetime(texts, errors="coerce", format="ISO8601")
        if stamps.isna().any():
            stamps = pd.to_datetime(texts, errors="coerce", format="mixed")
        return None if stamps.isna().any() else (present, stamps)

    def generalise_levels(self, values: Sequence[str]) -> list[list[str]]:
        """Month, year and band of every value from one vectorised parse."""
        parsed = self._parse_all(values)
        if parsed is None:
            return [Hierarchy.generalise_many(self, values, lv) for lv in range(1, self.height)]
        present, stamps = parsed
        year = stamps.dt.year.to_numpy()
        month = stamps.dt.month.to_numpy()
        start = year - year % self.band_years
        years = np.char.zfill(year.astype(str), 4)
        out = []
        for labels in (
            np.char.add(np.char.add(years, "-"), np.char.zfill(month.astype(str), 2)),
            years,
            np.char.add(
                np.char.add(start.astype(str), "-"), (start + self.band_years - 1).astype(str)
            ),
        ):
            level = np.full(len(values), MISSING, dtype=object)
            level[present] = labels
            out.append(level.tolist())
        return out

    def _map(self, element: str, level: int) -> str:
        stamp = _parse_date(element)
        if level == 1:
            return f"{stamp.year:04d}-{stamp.month:02d}"
        if level == 2:
            return f"{stamp.year:04d}"
        start = stamp.year - stamp.year % self.band_years
        return f"{start}-{start + self.band_years - 1}"


@dataclass
class MappingHierarchy(Hierarchy):
    """Explicit parent tables, one per level, e.g. from a JSON configuration.

    Args:
        levels: ``levels[0]`` maps original values to level-1 values, ``levels[1]`` maps
            level-1 values to level-2 values, and so on.
    """

    levels: Sequence[Mapping[str, str]]
    level_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.level_names = (
            "value",
            *[f"level{i + 1}" for i in range(len(self.levels))],
            "suppressed",
        )

    def _map(self, element: str, level: int) -> str:
        value = element
        for table in self.levels[:level]:
            value = table[value]
        return value


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    if pd.isna(stamp):
        raise ValueError("not a date")
    return stamp


def hierarchy_from_config(config: Mapping[str, Any]) -> Hierarchy:
    """Build a hierarchy from a dict such as ``{"type": "date", "band_years": 5}``.

    Types: ``age``, ``interval`` (``cuts``), ``country``, ``date``, ``mapping`` (``levels``),
    ``categorical``.
    """
    kind = config.get("type")
    if kind == "age":
        return age_hierarchy()
    if kind == "interval":
        return IntervalHierarchy(cuts=config["cuts"], names=config.get("names", ()))
    if kind == "country":
        return CountryHierarchy()
    if kind == "date":
        return DateHierarchy(band_years=int(config.get("band_years", 5)))
    if kind == "mapping":
        return MappingHierarchy(levels=config["levels"])
    if kind == "categorical":
        return SuppressionHierarchy()
    raise PrivacyError(f"unknown hierarchy type {kind!r}")


def infer_hierarchy(values: pd.Series) -> Hierarchy:
    """Pick a hierarchy for a column from its values: numbers, countries, dates or categories."""
    return infer_hierarchy_from_sample(
        [str(v) for v in pd.unique(values.dropna())[:INFERENCE_SAMPLE]]
    )


def infer_hierarchy_from_sample(distinct: Sequence[str]) -> Hierarchy:
    """:func:`infer_hierarchy` from distinct values already read as text."""
    sample = [v for v in distinct if v]
    elements = [p.strip() for v in sample for p in v.split(SEPARATOR)]
    if not elements:
        return SuppressionHierarchy()
    if all(_is_number(e) for e in elements):
        return age_hierarchy()
    if all(e.casefold() in _country_table() for e in elements):
        return CountryHierarchy()
    if all(_is_date(e) for e in elements):
        return DateHierarchy()
    return SuppressionHierarchy()


def _is_number(text: str) -> bool:
    try:
        return not math.isnan(float(text))
    except ValueError:
        return False


def _is_date(text: str) -> bool:
    if len(text) < 8 or _is_number(text):
        return False
    try:
        pd.Timestamp(text)
    except ValueError:
        return False
    return True
