"""The bulk path for flat imports (CSV, Excel, XLSForm submissions): the case services' validation
rules applied in Python to build each unit's rows as plain values, without model instances or
database queries (see docs/decisions/0007-imports.md). `staging.py` seals those rows and keeps them
for the commit; `committing.save_batch` writes them.

A unit qualifies when it holds only what flat files carry (case, people, consent, comments) and the
organisation defines no extension fields (their rules live in the services); anything else takes
the per-case service path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from functools import cache
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from tessera.cases import fieldmap
from tessera.cases.models import Case, CaseParty, CaseStatus, ExtensionField, PartyRole, Person
from tessera.cases.services.cases import _apply_own
from tessera.cases.services.common import split_payload
from tessera.consent.models import Purpose
from tessera.exchange.units import Problem, Unit
from tessera.htcds.catalogue import Field
from tessera.htcds.schema import PERSON_FIELDS
from tessera.htcds.validation import HtcdsValidationError, coerce_value
from tessera.tenancy.models import Membership

FLAT_PARTS = frozenset({"case", "people", "consent", "comments"})
# Plain strings: the choices' own `.values` builds a new list on every use.
OPEN = frozenset({CaseStatus.ACTIVE.value, CaseStatus.FOLLOW_UP.value})
ACTIVE = CaseStatus.ACTIVE.value
STATUSES = frozenset(CaseStatus.values)
ROLES = frozenset(PartyRole.values)
PURPOSES = frozenset(Purpose.values)


def has_extension_fields() -> bool:
    return ExtensionField.objects.filter(is_active=True).exists()


def qualifies(units: list[Unit]) -> bool:
    if has_extension_fields():
        return False
    return all(
        set(u.document) <= FLAT_PARTS and "extensions" not in (u.document.get("case") or {})
        for u in units
        if u.document
    )


@dataclass(frozen=True)
class BulkContext:
    """Everything building rows needs besides the unit, read from the database beforehand, so that
    building needs no database (and can run in worker processes)."""

    actor: Membership
    today: date
    # Active members by case-folded e-mail: the owner a file names, if they are a member.
    owners: dict[str, int]


def bulk_context(actor: Membership, today: date) -> BulkContext:
    return BulkContext(actor=actor, today=today, owners=member_ids(actor))


def member_ids(actor: Membership) -> dict[str, int]:
    return {
        email.casefold(): user_id
        for email, user_id in Membership.objects.filter(org=actor.org, is_active=True).values_list(
            "user__email", "user_id"
        )
    }


@dataclass
class BuiltUnit:
    """A unit's rows as model attribute → value, validated, not yet sealed."""

    unit: Unit
    case: dict[str, Any]
    closed: bool
    people: list[dict[str, Any]] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    # (person index, purpose, given)
    consents: list[tuple[int, str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def located(unit: Unit, exc: HtcdsValidationError) -> list[Problem]:
    """Report entries for a unit's refused values, at the rows and columns they came from."""
    return [unit.problem(path, m) for path, messages in exc.errors.items() for m in messages]


@contextmanager
def _at(path: str) -> Iterator[None]:
    try:
        yield
    except HtcdsValidationError as exc:
        raise HtcdsValidationError({f"{path}.{k}": v for k, v in exc.errors.items()}) from None


class Cleaner:
    """`fieldmap.clean_htcds` and `fieldmap.apply_values` for new rows, remembering the outcome for
    each distinct value of a field whose values repeat (picklists, flags, dates)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, type, Any], Any] = {}

    def values(self, entity: fieldmap.EntityMap, data: dict[str, Any]) -> dict[str, Any]:
        """Attribute → value for the HTCDS values in `data`; HtcdsValidationError names fields."""
        specs, targets = _entity(entity.entity)
        error = HtcdsValidationError()
        out: dict[str, Any] = {}
        for name, value in data.items():
            spec = specs.get(name)
            if spec is None:
                error.add(name, _("%(field)s is not a field of this record.") % {"field": name})
                continue
            try:
                cleaned = self._coerce(spec, value)
            except ValueError as exc:
                error.add(name, str(exc))
                continue
            attr, is_text = targets[name]
            new = fieldmap.to_model_value(is_text, cleaned)
            if name in ("prs_MailingLatitude", "prs_MailingLongitude") and new is not None:
                new = str(new)
            out[attr] = new
        if error.errors:
            raise error
        return out

    def _coerce(self, spec: Field, value: Any) -> Any:
        if spec.type in ("Text", "Long Text") or not isinstance(value, str | list | bool | int):
            return coerce_value(spec, value)
        # Lists (multi-select cells) are remembered by their items; the copy keeps each
        # document's list its own.
        key = (spec.name, type(value), tuple(value) if isinstance(value, list) else value)
        try:
            found = self._seen.get(key)
        except TypeError:  # an unhashable item in a list: not worth remembering
            return coerce_value(spec, value)
        if found is None:
            found = self._seen[key] = coerce_value(spec, value)
        return list(found) if isinstance(found, list) else found


_ENTITIES = {"case": (fieldmap.CASE, Case), "person": (fieldmap.PERSON, Person)}
_ENTITIES["party"] = (fieldmap.PARTY, CaseParty)


@cache
def _entity(name: str) -> tuple[dict[str, Field], dict[str, tuple[str, bool]]]:
    """The entity's field specs, and each HTCDS name's attribute and whether it is a text column."""
    entity, model = _ENTITIES[name]
    targets = {}
    for name, attr in entity.attrs.items():
        model_field = model._meta.get_field(attr)
        assert isinstance(model_field, models.Field)
        targets[name] = (attr, model_field.get_internal_type() in ("CharField", "TextField"))
    return entity.specs, targets


def build_unit(context: BulkContext, cleaner: Cleaner, unit: Unit) -> BuiltUnit:
    """The unit's rows under the services' rules; HtcdsValidationError names document paths."""
    htcds, own = split_payload(dict(unit.document.get("case") or {}))
    status = htcds.pop("cas_Status", None) or ACTIVE
    htcds.pop("cas_CaseOwner", None)
    actor = context.actor
    case: dict[str, Any] = {"status": status, "owner_id": actor.user_id, "team": actor.team}
    with _at("case"):
        if status not in OPEN:
            raise HtcdsValidationError(
                {"cas_Status": [_("A new case must be Active or FollowUp.")]}
            )
        case.update(cleaner.values(fieldmap.CASE, htcds))
        if own:
            case.update(_own_values(own, context))
    built = BuiltUnit(unit=unit, case=case, closed=False)
    refs: dict[str, int] = {}
    for i, entry in enumerate(unit.document.get("people") or []):
        data = dict(entry)
        ref, role = str(data.pop("ref", "") or f"#{i}"), data.pop("role", "")
        with _at(f"people[{i}]"):
            if role not in ROLES:
                raise HtcdsValidationError(
                    {"role": [_("%(value)s is not a value of role.") % {"value": repr(role)}]}
                )
            person_data = {k: v for k, v in data.items() if k in PERSON_FIELDS}
            context_data = {k: v for k, v in data.items() if k not in PERSON_FIELDS}
            person = cleaner.values(fieldmap.PERSON, person_data)
            party = cleaner.values(fieldmap.PARTY, context_data)
        party["role"] = role
        refs[ref] = len(built.people)
        built.people.append(person)
        built.parties.append(party)
    for i, entry in enumerate(unit.document.get("consent") or []):
        with _at(f"consent[{i}]"):
            person_index = refs.get(str(entry.get("ref", "")))
            if person_index is None:
                raise HtcdsValidationError({"ref": [_("ref must name a person in this document.")]})
            if entry.get("purpose") not in PURPOSES or not isinstance(
                entry.get("con_Consent"), bool
            ):
                raise HtcdsValidationError(
                    {"purpose": [_("A consent needs a purpose and true or false.")]}
                )
            built.consents.append((person_index, entry["purpose"], entry["con_Consent"]))
    built.notes = [str(c.get("cco_CaseComment") or "") for c in unit.document.get("comments") or []]
    if unit.owner_email:
        owner = context.owners.get(unit.owner_email.casefold())
        if owner is not None:
            case["owner_id"] = owner
        else:
            built.notes.append(
                _("Case owner in the imported file: %(owner)s") % {"owner": unit.owner_email}
            )
    if unit.status:
        if unit.status not in STATUSES:
            raise HtcdsValidationError(
                {
                    "case.cas_Status": [
                        _("%(value)s is not a value of cas_Status.") % {"value": repr(unit.status)}
                    ]
                }
            )
        case["status"], built.closed = unit.status, True
    types = sorted({t for p in built.parties for t in p.get("type_of_exploitation") or []})
    case["exploitation_tags"] = f"|{'|'.join(types)}|" if types else ""
    return built


def _own_values(own: dict[str, Any], context: BulkContext) -> dict[str, Any]:
    """Tessera's own case values (opened_on, sensitivity, team) under the service's own rules,
    applied to a case as the service creates it. A value the file gives is kept even when it
    equals the default: opened_on given as the day of the dry run stays that day at the commit."""
    case = Case(opened_on=context.today, team=context.actor.team, extensions={})
    _apply_own(case, own, context.actor)
    values = {attr: getattr(case, attr) for attr in ("opened_on", "team", "sensitivity")}
    # A default left in place is a choices enum; rows hold plain values.
    return {
        attr: value.value if isinstance(value, Enum) else value
        for attr, value in values.items()
        if attr in own
    }
