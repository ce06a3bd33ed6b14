"""Validate and coerce values of HTCDS fields. Every error names the HTCDS field it concerns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tessera.htcds.catalogue import Field, picklists

_STANDARD_PATTERNS = {
    "iso3166-alpha2": re.compile(r"^[A-Z]{2}$"),
    "iso639-2": re.compile(r"^[a-z]{2,3}$"),
}
# HTCDS says "Text" for a few fields that its notes bind to a code list.
CODE_LIST_TEXT_FIELDS = {"prs_MailingCountry": "iso3166-alpha2", "hte_Country": "iso3166-alpha2"}
MAX_TEXT = 255
MAX_LONG_TEXT = 20_000


@dataclass
class HtcdsValidationError(ValueError):
    """One or more invalid values; `errors` maps each field name to its messages."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def __str__(self) -> str:
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())


def _code(standard: str, value: Any, name: str) -> str:
    if not isinstance(value, str) or not _STANDARD_PATTERNS[standard].match(value):
        expected = _("an ISO 3166-1 alpha-2 country code such as GB")
        if standard == "iso639-2":
            expected = _("an ISO 639 language code such as eng")
        raise ValueError(
            _("%(field)s must be %(expected)s.") % {"field": name, "expected": expected}
        )
    return value


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(_("%(field)s must be text.") % {"field": name})
    if len(value) > limit:
        raise ValueError(
            _("%(field)s is longer than %(limit)s characters.") % {"field": name, "limit": limit}
        )
    return value


def coerce_value(spec: Field, value: Any) -> Any:
    """The Python value for `value` of HTCDS field `spec`; raises ValueError naming the field."""
    name = spec.name
    if value is None or value == "":
        return [] if spec.is_multiselect else None
    kind = spec.type
    picklist = picklists().get(name)
    if kind in ("Picklist", "Multiselect Picklist") or (picklist and kind == "Picklist or Text"):
        assert picklist is not None
        values = value if spec.is_multiselect else [value]
        if spec.is_multiselect and not isinstance(value, list):
            raise ValueError(_("%(field)s must be a list of values.") % {"field": name})
        out = []
        for item in values:
            if picklist.standard:
                out.append(_code(picklist.standard, item, name))
            elif not isinstance(item, str) or item not in picklist.names:
                raise ValueError(
                    _("%(value)s is not a value of %(field)s.")
                    % {"value": repr(item), "field": name}
                )
            else:
                out.append(item)
        return sorted(set(out)) if spec.is_multiselect else out[0]
    if name in CODE_LIST_TEXT_FIELDS:
        return _code(CODE_LIST_TEXT_FIELDS[name], value, name)
    if kind == "Date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(
                _("%(field)s must be a date (YYYY-MM-DD).") % {"field": name}
            ) from None
    if kind == "Checkbox":
        if not isinstance(value, bool):
            raise ValueError(_("%(field)s must be true or false.") % {"field": name})
        return value
    if kind in ("Number", "Geolocation"):
        if isinstance(value, bool):
            raise ValueError(_("%(field)s must be a number.") % {"field": name})
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(_("%(field)s must be a number.") % {"field": name}) from None
        if not number.is_finite():
            raise ValueError(_("%(field)s must be a number.") % {"field": name})
        if name.endswith("Latitude") and not -90 <= number <= 90:
            raise ValueError(_("%(field)s must be between -90 and 90.") % {"field": name})
        if name.endswith("Longitude") and not -180 <= number <= 180:
            raise ValueError(_("%(field)s must be between -180 and 180.") % {"field": name})
        if kind == "Number" and not name.endswith(("Latitude", "Longitude")):
            if number != number.to_integral_value() or not 0 <= number <= 200:
                raise ValueError(
                    _("%(field)s must be a whole number from 0 to 200.") % {"field": name}
                )
            return int(number)
        return number.quantize(Decimal("0.000001"))
    if kind == "Long Text":
        return _text(value, name, MAX_LONG_TEXT)
    return _text(value, name, MAX_TEXT)


def coerce_values(specs: dict[str, Field], data: dict[str, Any]) -> dict[str, Any]:
    """Coerce every value; unknown keys are errors. Raises HtcdsValidationError with all problems."""
    error = HtcdsValidationError()
    out: dict[str, Any] = {}
    for name, value in data.items():
        spec = specs.get(name)
        if spec is None:
            error.add(name, _("%(field)s is not a field of this record.") % {"field": name})
            continue
        try:
            out[name] = coerce_value(spec, value)
        except ValueError as exc:
            error.add(name, str(exc))
    if error.errors:
        raise error
    return out
