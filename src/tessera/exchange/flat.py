"""Flat tables (CSV or Excel, one row per person) ↔ HTCDS case documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.utils.translation import gettext as _

from tessera.exchange import cells
from tessera.exchange.columns import (
    CARE_CONSENT,
    CASE_OWN,
    CASE_REF,
    CASE_SIDE,
    CONSENT_COLUMNS,
    OUTGOING_REFERRAL_FIELDS,
    PERSON_SIDE,
    ROLE,
    full_header,
    header_fields,
    known_columns,
)
from tessera.exchange.extension_columns import CASE, ExtensionColumn, parse_extension_cell
from tessera.exchange.safety import check_cell, unquote
from tessera.exchange.units import Problem, Unit, assign_keys
from tessera.htcds.catalogue import fields

OPEN_STATUSES = ("Active", "FollowUp")
DEFAULT_ROLE = "PotentialVictim"


def _is_label_row(values: list[Any], names: list[str | None], extra_labels: list[str]) -> bool:
    """The template's second row repeats the columns' labels; it is not data."""
    from tessera.exchange.columns import label_of

    labels = {cells._key(label_of(n)) for n in names if n} | {cells._key(x) for x in extra_labels}
    labels |= {cells._key(v) for v in ("Mailing Street", "Mailing Zip/Postal Code", "Status")}
    texts = [cells._key(str(v)) for v in values if v not in (None, "")]
    return len(texts) >= 3 and sum(t in labels for t in texts) >= len(texts) * 0.6


def table_to_units(
    header: list[str],
    rows: Iterable[tuple[int, list[Any]]],
    extensions: Sequence[ExtensionColumn] = (),
) -> list[Unit]:
    """Group the rows of one case (same `case_ref`, or one row per case without it) into units.
    `extensions`: the organisation's extension fields, which the file may carry as columns.

    File-level problems (unknown columns) come back on a unit with an empty document at row 1.
    """
    names = header_fields(header)
    header_problems = []
    by_column = {column.column: column for column in extensions}
    known = known_columns() | set(by_column)
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name is None:
            continue
        if name not in known:
            header_problems.append(
                Problem(
                    1, header[i], name, _("%(column)s is not an HTCDS column.") % {"column": name}
                )
            )
        elif name in seen:
            header_problems.append(
                Problem(
                    1, header[i], name, _("The column %(column)s appears twice.") % {"column": name}
                )
            )
        seen.add(name)
    groups: dict[str, Unit] = {}
    reader = CellReader(by_column)
    order: list[Unit] = []
    first = True
    for number, values in rows:
        values = list(values) + [None] * (len(names) - len(values))
        if all(v in (None, "") for i, v in enumerate(values) if names[i] is not None):
            continue
        if first and number <= 2 and _is_label_row(values, names, [c.label for c in extensions]):
            first = False
            continue
        first = False
        extra = [i for i in range(len(names), len(values)) if values[i] not in (None, "")]
        row: dict[str, tuple[str, Any]] = {}
        for i, name in enumerate(names):
            if name is not None and values[i] not in (None, ""):
                row[name] = (header[i], values[i])
        unit_problems: list[Problem] = []
        for i, name in enumerate(names):
            if name is None and i > 0 and values[i] not in (None, ""):
                unit_problems.append(
                    Problem(number, f"#{i + 1}", "", _("A value in a column without a name."))
                )
        for i in extra:
            unit_problems.append(
                Problem(number, f"#{i + 1}", "", _("A value beyond the last named column."))
            )
        ref = str(row.get(CASE_REF, ("", ""))[1] or "").strip()
        unit = groups.get(ref) if ref else None
        if unit is None:
            unit = Unit(
                document={"case": {}, "people": [], "consent": [], "comments": []}, first_row=number
            )
            order.append(unit)
            if ref:
                groups[ref] = unit
        unit.problems.extend(unit_problems)
        _add_row(unit, number, row, reader)
    if header_problems:
        order.insert(0, Unit(document={}, first_row=1, problems=header_problems))
    assign_keys([u for u in order if u.document])
    return order


# Columns whose cells repeat (picklists, flags, dates, numbers): their parsed values are worth
# remembering for the rest of the file. Free text (names, addresses) is parsed afresh.
_FREE_TEXT = frozenset({"Text", "Long Text"})


def _repeats(name: str) -> bool:
    spec = fields().get(name)
    return spec is None or (spec.type not in _FREE_TEXT and not spec.type.startswith("Lookup"))


class CellReader:
    """Reads the cells of one file, remembering the outcome for each distinct value of a column
    whose values repeat: a 200,000-row file has a few hundred distinct picklist cells, and
    parsing each one once instead of every time is most of the cost of reading."""

    def __init__(self, extensions: dict[str, ExtensionColumn] | None = None) -> None:
        self._seen: dict[tuple[str, type, Any], tuple[bool, Any, str]] = {}
        self._repeating: dict[str, bool] = {}
        self.extensions = extensions or {}

    def read(self, unit: Unit, number: int, header: str, name: str, raw: Any) -> tuple[bool, Any]:
        extension = self.extensions.get(name)
        if extension is not None:
            ok, value, message = _parse(name, raw, extension)
            if message:
                unit.problems.append(Problem(number, header, name, message))
            return ok, value
        repeats = self._repeating.get(name)
        if repeats is None:
            repeats = self._repeating[name] = _repeats(name)
        # The type is part of the key: True, 1 and 1.0 are equal keys but different cells.
        key = (name, type(raw), raw)
        found = self._seen.get(key) if repeats else None
        if found is None:
            found = _parse(name, raw)
            if repeats:
                self._seen[key] = found
        ok, value, message = found
        if message:
            unit.problems.append(Problem(number, header, name, message))
        # A list is shared by every cell with this value: each document gets its own copy.
        return ok, list(value) if isinstance(value, list) else value


def _parse(name: str, raw: Any, extension: ExtensionColumn | None = None) -> tuple[bool, Any, str]:
    if isinstance(raw, str):
        message = check_cell(raw)
        if message:
            return False, None, message
        raw = unquote(raw)
    try:
        if extension is not None:
            return True, parse_extension_cell(extension, raw), ""
        return True, cells.parse_cell(name, raw), ""
    except ValueError as exc:
        return False, None, str(exc)


@cache
def _path(part: str, index: int | None, name: str = "") -> str:
    """A document path (`people[1].prs_Gender`). One string per path for the whole file: a
    200,000-row file would otherwise hold a few million copies of a few hundred paths."""
    at = part if index is None else f"{part}[{index}]"
    return f"{at}.{name}" if name else at


def _add_row(
    unit: Unit, number: int, row: dict[str, tuple[str, Any]], reader: CellReader | None = None
) -> None:
    reader = reader or CellReader()
    doc = unit.document
    index = len(doc["people"])
    person: dict[str, Any] = {"ref": f"row{number}", "role": DEFAULT_ROLE}
    is_first = index == 0
    leftovers = []
    for name, (header, raw) in row.items():
        ok, value = reader.read(unit, number, header, name, raw)
        if not ok or name == CASE_REF:
            continue
        extension = reader.extensions.get(name)
        if extension is not None:
            _extension_value(unit, number, header, extension, value, person, is_first)
        elif name == ROLE:
            person["role"] = value
            unit.cells[_path("people", index, ROLE)] = (number, header)
        elif name in PERSON_SIDE:
            person[name] = value
            unit.cells[_path("people", index, name)] = (number, header)
        elif name == CARE_CONSENT or name in CONSENT_COLUMNS:
            purpose = CONSENT_COLUMNS.get(name, "care")
            given = value if isinstance(value, bool) else cells.parse_bool(value, name)
            if given is not None:
                unit.cells[_path("consent", len(doc["consent"]))] = (number, header)
                doc["consent"].append(
                    {"ref": person["ref"], "purpose": purpose, "con_Consent": given}
                )
        elif name in OUTGOING_REFERRAL_FIELDS:
            leftovers.append(f"{name}: {cells.format_value(value)}")
        elif name in CASE_SIDE or name in CASE_OWN:
            _case_value(unit, number, header, name, value, is_first)
    if leftovers:
        doc["comments"].append(
            {
                "cco_CaseComment": _("Outgoing referral (imported, row %(row)s)") % {"row": number}
                + "\n"
                + "\n".join(leftovers),
                "kind": "note",
            }
        )
    doc["people"].append(person)


def _case_value(
    unit: Unit, number: int, header: str, name: str, value: Any, is_first: bool
) -> None:
    current = _case_current(unit, name)
    if not is_first:
        if value is not None and value != current:
            unit.problems.append(
                Problem(
                    number,
                    header,
                    name,
                    _("%(field)s differs from the first row of this case.") % {"field": name},
                )
            )
        return
    if name == "cas_Status":
        if value in OPEN_STATUSES:
            unit.document["case"][name] = value
        else:
            unit.status = str(value)
    elif name == "cas_CaseOwner":
        unit.owner_email = str(value)
    else:
        unit.document["case"][name] = value
    unit.cells[_path("case", None, name)] = (number, header)


def _extension_value(
    unit: Unit,
    number: int,
    header: str,
    extension: ExtensionColumn,
    value: Any,
    person: dict[str, Any],
    is_first: bool,
) -> None:
    """A person's extension value goes to the person; a case's, like the case's HTCDS values,
    comes from the case's first row, and later rows may only repeat it."""
    if value is None:
        return
    if extension.side != CASE:
        index = len(unit.document["people"])
        person.setdefault("extensions", {})[extension.name] = value
        unit.cells[_path("people", index, f"extensions.{extension.name}")] = (number, header)
        return
    case_values = unit.document["case"].setdefault("extensions", {})
    if not is_first:
        if value != case_values.get(extension.name):
            unit.problems.append(
                Problem(
                    number,
                    header,
                    extension.column,
                    _("%(field)s differs from the first row of this case.")
                    % {"field": extension.column},
                )
            )
        return
    case_values[extension.name] = value
    unit.cells[_path("case", None, f"extensions.{extension.name}")] = (number, header)


def _case_current(unit: Unit, name: str) -> Any:
    if name == "cas_Status":
        return unit.status or unit.document["case"].get(name)
    if name == "cas_CaseOwner":
        return unit.owner_email or None
    return unit.document["case"].get(name)


def document_rows(
    document: dict[str, Any], extensions: Sequence[ExtensionColumn] = ()
) -> list[dict[str, Any]]:
    """The flat rows (column → value) of one exported case document."""
    case = document["case"]
    consent: dict[tuple[str, str], bool] = {
        (c["ref"], c["purpose"]): c["con_Consent"] for c in document.get("consent", [])
    }
    rows = []
    for person in document["people"]:
        row: dict[str, Any] = {CASE_REF: case.get("reference")}
        for name in CASE_SIDE:
            row[name] = case.get(name)
        for key, value in person.items():
            if key in PERSON_SIDE or key == ROLE:
                row[key] = value
        row[CARE_CONSENT] = consent.get((person["ref"], "care"))
        for column, purpose in CONSENT_COLUMNS.items():
            row[column] = consent.get((person["ref"], purpose))
        for extension in extensions:
            holder = case if extension.side == CASE else person
            row[extension.column] = (holder.get("extensions") or {}).get(extension.name)
        rows.append(row)
    return rows


def rows_to_table(
    rows: Iterable[dict[str, Any]], extensions: Sequence[ExtensionColumn] = ()
) -> Iterable[list[Any]]:
    """Cells in the order of `full_header()` and then the extension columns (the first column
    numbers the rows, as IOM's does)."""
    names = header_fields(full_header()) + [extension.column for extension in extensions]
    for number, row in enumerate(rows, start=1):
        yield [
            number if i == 0 else cells.format_value(row.get(name)) if name else ""
            for i, name in enumerate(names)
        ]
