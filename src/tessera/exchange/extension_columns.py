"""Organisation-defined extension fields in flat files (CSV, Excel): one column each, after the
HTCDS columns, under the field's own name (DESIGN.md: "extensions export under their own names").

Fields of cases live on the case's first row, like the case's HTCDS values; fields of people and
of people in a case are one set of names in a case document (`people[].extensions`), so they
share one column per name. A name is qualified (`case.priority`, `person.priority`) only where it
would otherwise be ambiguous: defined for both cases and people, or equal to one of Tessera's own
columns (`role`, `team`, `sensitivity`). Extension names hold no dots, so a qualified name never
equals a field's own name. Events and support plans do not travel in flat files, nor do their
extension fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tessera.cases.models import ExtensionEntity, ExtensionType
from tessera.cases.selectors.extensions import extension_fields
from tessera.exchange import cells
from tessera.exchange.columns import known_columns

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
CASE = "case"
PEOPLE = "people"
_SIDES: dict[str, str] = {
    ExtensionEntity.CASE.value: CASE,
    ExtensionEntity.PERSON.value: PEOPLE,
    ExtensionEntity.PARTY.value: PEOPLE,
}


@dataclass(frozen=True)
class ExtensionColumn:
    column: str
    side: str  # CASE or PEOPLE
    name: str
    type: str
    label: str


def extension_columns() -> list[ExtensionColumn]:
    """The current organisation's active extension fields of cases and people, as columns."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for field in extension_fields().filter(entity__in=list(_SIDES)):
        # A person's and a party's field of the same name are one value in the document.
        found.setdefault((_SIDES[field.entity], field.name), (field.type, field.label))
    names = [name for _side, name in found]
    reserved = known_columns()
    out = []
    for (side, name), (kind, label) in sorted(found.items(), key=_case_first):
        column = name
        if names.count(name) > 1 or name in reserved:
            column = f"{'case' if side == CASE else 'person'}.{name}"
        out.append(ExtensionColumn(column, side, name, kind, label))
    return out


def _case_first(item: tuple[tuple[str, str], Any]) -> tuple[bool, str]:
    (side, name), _definition = item
    return side != CASE, name


def parse_extension_cell(column: ExtensionColumn, raw: Any) -> Any:
    """The document value of an extension cell (the services validate it against its field)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if column.type == ExtensionType.CHECKBOX:
        return cells.parse_bool(raw, column.column)
    if column.type == ExtensionType.MULTISELECT:
        return [part.strip() for part in str(raw).replace("\n", ";").split(";") if part.strip()]
    if column.type == ExtensionType.DATE:
        if isinstance(raw, datetime):
            return raw.date().isoformat()
        if isinstance(raw, date):
            return raw.isoformat()
        text = str(raw).strip()
        return text[:10] if _ISO_DATETIME.match(text) else text
    if column.type == ExtensionType.NUMBER:
        return raw if isinstance(raw, int | float) else str(raw).strip()
    return raw if isinstance(raw, str) else str(raw)
