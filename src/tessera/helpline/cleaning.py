"""Validate contact input (from the API, the advisor form or the public form) field by field.

Every error names its field, so the API answers 400 with `errors` and forms show messages inline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tessera.cases.services.common import CaseRuleError
from tessera.helpline.models import (
    CallerType,
    Channel,
    Contact,
    Direction,
    Outcome,
    SafetyFlag,
    TriageStatus,
    Urgency,
)
from tessera.vault.normalise import normalise_phone

CHOICE_FIELDS: dict[str, Any] = {
    "channel": Channel,
    "direction": Direction,
    "caller_type": CallerType,
    "urgency": Urgency,
    "outcome": Outcome,
    "triage_status": TriageStatus,
}
TEXT_LIMITS = {
    "summary": 10_000,
    "location": 500,
    "occurred": 100,
    "caller_name": 200,
    "caller_email": 254,
    "safe_contact": 500,
    "team": 100,
    "language": 8,
}
SEALED = frozenset(
    {"summary", "location", "caller_name", "caller_phone", "caller_email", "safe_contact"}
)
EDITABLE = (
    set(CHOICE_FIELDS)
    | set(TEXT_LIMITS)
    | {"caller_phone", "started_at", "ended_at", "is_exploitation", "is_anonymous", "safety_flags"}
)


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def apply_contact_data(contact: Contact, data: dict[str, Any], *, region: str | None) -> list[str]:
    """Set the valid values of `data` on `contact`; return the changed field names or raise."""
    error = CaseRuleError()
    changed: list[str] = []
    for key, value in data.items():
        if key not in EDITABLE:
            error.add(key, _("%(field)s is not a field of a contact.") % {"field": key})
            continue
        try:
            cleaned = _clean_value(key, value, region)
        except ValueError as exc:
            error.add(key, str(exc) or _("This value is not valid."))
            continue
        if cleaned != getattr(contact, key):
            setattr(contact, key, cleaned)
            changed.append(key)
    if contact.ended_at and contact.started_at and contact.ended_at < contact.started_at:
        error.add("ended_at", _("The end cannot be before the start."))
    if error.errors:
        raise error
    return changed


def _clean_value(key: str, value: Any, region: str | None) -> Any:
    if key in CHOICE_FIELDS:
        if key == "outcome" and value in (None, ""):
            return ""
        if value not in CHOICE_FIELDS[key].values:
            raise ValueError(_("%(value)s is not one of the choices.") % {"value": repr(value)})
        return value
    if key in TEXT_LIMITS:
        text = "" if value is None else value
        if not isinstance(text, str):
            raise ValueError(_("Enter text."))
        if len(text) > TEXT_LIMITS[key]:
            raise ValueError(_("Use at most %(limit)d characters.") % {"limit": TEXT_LIMITS[key]})
        return text.strip()
    if key == "caller_phone":
        raw = "" if value is None else str(value).strip()
        if not raw:
            return ""
        if len(raw) > 40 or not normalise_phone(raw, region):
            raise ValueError(_("Enter a phone number, with its country code if it is abroad."))
        return normalise_phone(raw, region)
    if key in ("started_at", "ended_at"):
        try:
            when = _when(value)
        except ValueError:
            raise ValueError(_("Enter a date and time (ISO 8601).")) from None
        if key == "started_at" and when is None:
            raise ValueError(_("The start is required."))
        return when
    if key == "is_exploitation":
        if value not in (True, False, None):
            raise ValueError(_("Use true, false or null."))
        return value
    if key == "is_anonymous":
        if not isinstance(value, bool):
            raise ValueError(_("Use true or false."))
        return value
    if key == "safety_flags":
        if not isinstance(value, list) or any(v not in SafetyFlag.values for v in value):
            raise ValueError(
                _("Use a list of: %(flags)s.") % {"flags": ", ".join(SafetyFlag.values)}
            )
        return sorted(set(value))
    raise ValueError  # pragma: no cover - EDITABLE and the branches above agree
