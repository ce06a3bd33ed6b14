"""One cell ↔ one HTCDS value: picklist labels or names, multi-select lists, checkboxes, dates.

Spreadsheets hold what people typed: `Forced labour` as well as `ForcedLabour`, `Follow up` for
`FollowUp`, `yes` for true, several values in one cell separated by semicolons (Salesforce's own
convention) or commas. Reading accepts all of these; writing uses the HTCDS names.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

from django.utils.translation import gettext as _

from tessera.htcds.catalogue import Field, fields, picklists

_TRUE = {"true", "yes", "y", "1", "x", "✓", "oui", "sí", "si"}
_FALSE = {"false", "no", "n", "0", "non"}
_SPLIT = re.compile(r"[;\n]")


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


@cache
def _choices(name: str) -> dict[str, str]:
    picklist = picklists()[name]
    out: dict[str, str] = {}
    for choice in picklist.choices:
        out[_key(choice.label)] = choice.name
    for choice in picklist.choices:
        out[_key(choice.name)] = choice.name
    return out


def _choice(spec: Field, text: str) -> str:
    picklist = picklists().get(spec.name)
    if picklist is None or picklist.standard:
        return text.strip() if picklist is not None else text
    return _choices(spec.name).get(_key(text), text.strip())


def parse_cell(name: str, raw: Any) -> Any:
    """The document value of one cell of HTCDS field `name` (validation happens later, in the
    services); raises ValueError for a value that cannot even be read as its type."""
    spec = fields().get(name)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec is None:
        return raw
    if spec.type == "Date":
        if isinstance(raw, datetime):
            return raw.date().isoformat()
        if isinstance(raw, date):
            return raw.isoformat()
        return str(raw).strip()[:10] if _ISO_DATETIME.match(str(raw).strip()) else str(raw).strip()
    if spec.type == "Checkbox":
        return parse_bool(raw, name)
    if spec.is_multiselect:
        text = str(raw)
        parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
        if len(parts) == 1 and "," in text:
            candidates = [p.strip() for p in text.split(",") if p.strip()]
            if all(_key(c) in _choices_or_empty(name) for c in candidates):
                parts = candidates
        return [_choice(spec, p) for p in parts]
    if spec.type in ("Picklist", "Picklist or Text"):
        return _choice(spec, str(raw))
    if spec.type in ("Number", "Geolocation"):
        return raw if isinstance(raw, int | float) else str(raw).strip()
    return raw if isinstance(raw, str) else str(raw)


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")


def _choices_or_empty(name: str) -> dict[str, str]:
    picklist = picklists().get(name)
    return _choices(name) if picklist is not None and not picklist.standard else {}


def parse_bool(raw: Any, name: str) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("%(field)s must be TRUE or FALSE.") % {"field": name})


def format_value(value: Any) -> str | int | float:
    """The cell text (or number) for a document value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, int | float):
        return value
    return str(value)
