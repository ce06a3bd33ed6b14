"""The HTCDS 2.0 field catalogue, loaded once from the generated `catalogue.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils.translation import gettext

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.json"

TEXT_TYPES = frozenset({"Text", "Long Text", "Picklist or Text"})
LOOKUP_PREFIX = "Lookup"


@dataclass(frozen=True)
class Choice:
    name: str
    label: str

    @property
    def translated_label(self) -> str:
        return gettext(self.label)


@dataclass(frozen=True)
class Picklist:
    field: str
    type: str
    # An external code list ("iso3166-alpha2", "iso639-2") instead of enumerated values.
    standard: str
    choices: tuple[Choice, ...]

    @property
    def names(self) -> frozenset[str]:
        return (
            frozenset(choice.name for choice in self.choices) if not self.standard else frozenset()
        )


@dataclass(frozen=True)
class Field:
    name: str
    prefix: str
    section: str
    label: str
    type: str
    core: bool
    status: str
    salesforce: str
    description: str
    notes: str

    @property
    def translated_label(self) -> str:
        return gettext(self.label)

    @property
    def is_deprecated(self) -> bool:
        return self.status == "DEPRECATED"

    @property
    def is_multiselect(self) -> bool:
        return self.type == "Multiselect Picklist"

    @property
    def picklist(self) -> Picklist | None:
        return picklists().get(self.name)


@cache
def _raw() -> dict[str, object]:
    data: dict[str, object] = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    return data


@cache
def fields() -> dict[str, Field]:
    """Every HTCDS field by its full name (`prs_FirstName`), in the standard's order."""
    rows = _raw()["fields"]
    assert isinstance(rows, list)
    return {row["name"]: Field(**row) for row in rows}


@cache
def picklists() -> dict[str, Picklist]:
    rows = _raw()["picklists"]
    assert isinstance(rows, list)
    return {
        row["field"]: Picklist(
            field=row["field"],
            type=row["type"],
            standard=row["standard"],
            choices=tuple(Choice(**value) for value in row["values"]),
        )
        for row in rows
    }


def field(name: str) -> Field:
    return fields()[name]


def fields_with_prefix(*prefixes: str, section: str | None = None) -> list[Field]:
    return [
        f
        for f in fields().values()
        if f.prefix in prefixes and (section is None or f.section == section)
    ]


def choices_for(name: str) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a form's select; empty for code-list picklists."""
    picklist = picklists().get(name)
    if picklist is None or picklist.standard:
        return []
    return [(choice.name, choice.translated_label) for choice in picklist.choices]
