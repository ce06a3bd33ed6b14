"""Which HTCDS fields each model carries, under which attribute, and how values are validated.

Inputs from forms, the API and HTCDS documents all pass through `clean_input`, so every channel
validates the same way and every error names the HTCDS field (or extension field) it concerns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from django.utils.translation import gettext as _

from tessera.cases.models import ExtensionField, ExtensionType
from tessera.htcds import schema
from tessera.htcds.catalogue import Field, field
from tessera.htcds.naming import attr_name
from tessera.htcds.validation import HtcdsValidationError, coerce_values


@dataclass(frozen=True)
class EntityMap:
    """HTCDS name → model attribute for one entity."""

    entity: str
    attrs: dict[str, str]

    @property
    def specs(self) -> dict[str, Field]:
        return {name: field(name) for name in self.attrs}


def _map(entity: str, names: list[str], **overrides: str) -> EntityMap:
    return EntityMap(entity, {name: overrides.get(name, attr_name(name)) for name in names})


# cas_Status and cas_CaseOwner change only through their own services (closure needs approval;
# assignment needs a permission), so they are not plain case attributes here.
CASE = _map("case", [n for n in schema.CASE_FIELDS if n not in ("cas_Status", "cas_CaseOwner")])
PERSON = _map("person", schema.PERSON_FIELDS)
PARTY = _map("party", schema.VICTIM_FIELDS + schema.PERPETRATOR_FIELDS)
EVENT = _map("event", schema.EVENT_FIELDS)
PLAN = _map("plan", schema.PLAN_FIELDS)

# Person fields sealed by the vault: reading them needs Perm.VIEW_IDENTITY and is audited.
IDENTITY_FIELDS = frozenset(
    {
        "prs_Salutation",
        "prs_FirstName",
        "prs_MiddleName",
        "prs_SecondName",
        "prs_Birthdate",
        "prs_IdentityNumber",
        "prs_Title",
        "prs_Email",
        "prs_HomePhone",
        "prs_MobilePhone",
        "prs_MailingStreet",
        "prs_MailingPostalCode",
        "prs_MailingCity",
        "prs_MailingLatitude",
        "prs_MailingLongitude",
    }
)


def to_model_value(model_field_is_text: bool, value: Any) -> Any:
    """Model attribute value for a coerced HTCDS value (text columns store '' for nothing)."""
    if value is None and model_field_is_text:
        return ""
    return value


def clean_htcds(entity: EntityMap, data: dict[str, Any]) -> dict[str, Any]:
    """Coerce the HTCDS fields in `data` (keys not in the entity are errors)."""
    return coerce_values(entity.specs, data)


def clean_extensions(
    entity: str, data: dict[str, Any], *, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate extension values against the current organisation's definitions."""
    if not isinstance(data, dict):
        raise HtcdsValidationError({"extensions": [_("extensions must be an object.")]})
    definitions = {d.name: d for d in ExtensionField.objects.filter(entity=entity, is_active=True)}
    error = HtcdsValidationError()
    out = dict(existing or {})
    for name, value in data.items():
        key = f"extensions.{name}"
        definition = definitions.get(name)
        if definition is None:
            error.add(
                key,
                _("%(field)s is not an extension field of this organisation.") % {"field": name},
            )
            continue
        try:
            cleaned = coerce_extension(definition, value)
        except ValueError as exc:
            error.add(key, str(exc))
            continue
        if cleaned in (None, "", []):
            out.pop(name, None)
        else:
            out[name] = cleaned
    for name, definition in definitions.items():
        if definition.is_required and name not in out:
            error.add(f"extensions.{name}", _("%(field)s is required.") % {"field": name})
    if error.errors:
        raise error
    return out


def apply_extensions(instance: Any, entity: str, data: Any) -> list[str]:
    """Validate extension values and set them on `instance`; returns "extensions.<name>" for each
    value that changed. A record being created is checked for required fields even when no
    extension value came with it (pass an empty mapping)."""
    before = dict(instance.extensions or {})
    instance.extensions = clean_extensions(entity, data, existing=before)
    names = sorted(set(before) | set(instance.extensions))
    return [f"extensions.{n}" for n in names if before.get(n) != instance.extensions.get(n)]


def coerce_extension(definition: ExtensionField, value: Any) -> Any:
    name = definition.name
    if value is None or value == "" or value == []:
        return None
    kind = definition.type
    if kind in (ExtensionType.TEXT, ExtensionType.LONG_TEXT):
        limit = 255 if kind == ExtensionType.TEXT else 20_000
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(
                _("%(field)s must be text of at most %(limit)s characters.")
                % {"field": name, "limit": limit}
            )
        return value
    if kind == ExtensionType.NUMBER:
        if isinstance(value, bool):
            raise ValueError(_("%(field)s must be a number.") % {"field": name})
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise ValueError(_("%(field)s must be a number.") % {"field": name}) from None
        if not number.is_finite():
            raise ValueError(_("%(field)s must be a number.") % {"field": name})
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == ExtensionType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(
                _("%(field)s must be a date (YYYY-MM-DD).") % {"field": name}
            ) from None
    if kind == ExtensionType.CHECKBOX:
        if not isinstance(value, bool):
            raise ValueError(_("%(field)s must be true or false.") % {"field": name})
        return value
    allowed = set(definition.choices)
    values = value if kind == ExtensionType.MULTISELECT else [value]
    if kind == ExtensionType.MULTISELECT and not isinstance(value, list):
        raise ValueError(_("%(field)s must be a list of values.") % {"field": name})
    for item in values:
        if item not in allowed:
            raise ValueError(
                _("%(value)s is not a value of %(field)s.") % {"value": repr(item), "field": name}
            )
    return sorted(set(values)) if kind == ExtensionType.MULTISELECT else value


def coerce_value_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(_("%(field)s must be a date (YYYY-MM-DD).") % {"field": name}) from None


def apply_values(instance: Any, entity: EntityMap, cleaned: dict[str, Any]) -> list[str]:
    """Set cleaned HTCDS values on a model instance; returns the HTCDS names that changed."""
    changed = []
    for name, value in cleaned.items():
        attr = entity.attrs[name]
        model_field = instance._meta.get_field(attr)
        is_text = model_field.get_internal_type() in ("CharField", "TextField")
        new = to_model_value(is_text, value)
        if name in ("prs_MailingLatitude", "prs_MailingLongitude") and new is not None:
            new = str(new)
        if getattr(instance, attr) != new:
            setattr(instance, attr, new)
            changed.append(name)
    return changed


def export_values(
    instance: Any, entity: EntityMap, *, names: list[str] | None = None
) -> dict[str, Any]:
    """HTCDS name → JSON value for the given instance."""
    wanted = names if names is not None else list(entity.attrs)
    return {name: _json_value(name, getattr(instance, entity.attrs[name])) for name in wanted}


def export_row(row: Mapping[str, Any], entity: EntityMap) -> dict[str, Any]:
    """HTCDS name → JSON value for a row read with `.values()` (keys are model attributes)."""
    return {name: _json_value(name, row[attr]) for name, attr in entity.attrs.items()}


@cache
def _is_numeric(name: str) -> bool:
    return field(name).type in ("Number", "Geolocation")


def _json_value(name: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) or (_is_numeric(name) and isinstance(value, str) and value):
        return float(value)
    if value == "":
        return None
    return value
