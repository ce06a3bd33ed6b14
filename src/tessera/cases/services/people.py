"""People and their roles in cases; merging duplicates; audited reads of identity."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tessera.cases import fieldmap
from tessera.cases.models import Case, CaseParty, PartyRole, Person
from tessera.cases.services.common import CaseRuleError, acting, audit, require, split_payload
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def _clean_person(person: Person, data: dict[str, Any]) -> list[str]:
    htcds, own = split_payload(data)
    unknown = set(own) - {"extensions"}
    if unknown:
        raise CaseRuleError(
            {
                k: [_("%(field)s is not a field of this record.") % {"field": k}]
                for k in sorted(unknown)
            }
        )
    cleaned = fieldmap.clean_htcds(fieldmap.PERSON, htcds)
    changed = fieldmap.apply_values(person, fieldmap.PERSON, cleaned)
    if "extensions" in own or person._state.adding:
        changed += fieldmap.apply_extensions(person, "person", own.get("extensions", {}))
    return changed


def create_person(*, actor: Membership, data: dict[str, Any]) -> Person:
    require(actor, Perm.EDIT_CASES)
    require(actor, Perm.VIEW_IDENTITY)
    with acting(actor):
        person = Person()
        changed = _clean_person(person, data)
        person.save()
        audit("person.create", person, changed)
    return person


def update_person(*, actor: Membership, person: Person, data: dict[str, Any]) -> Person:
    require(actor, Perm.EDIT_CASES)
    require(actor, Perm.VIEW_IDENTITY)
    if person.merged_into_id is not None:
        raise CaseRuleError({"person": [_("This record was merged into another; edit that one.")]})
    with acting(actor):
        changed = _clean_person(person, data)
        if changed:
            person.save()
            audit("person.update", person, changed)
    return person


def _clean_party(party: CaseParty, data: dict[str, Any]) -> list[str]:
    htcds, own = split_payload(data)
    error = HtcdsValidationError()
    changed: list[str] = []
    for key, value in own.items():
        if key == "role":
            if value not in PartyRole.values:
                error.add("role", _("%(value)s is not a value of role.") % {"value": repr(value)})
            elif value != party.role:
                party.role = value
                changed.append("role")
        elif key == "extensions":
            continue
        else:
            error.add(key, _("%(field)s is not a field of this record.") % {"field": key})
    if "extensions" in own or party._state.adding:
        try:
            changed += fieldmap.apply_extensions(party, "party", own.get("extensions", {}))
        except HtcdsValidationError as exc:
            error.errors.update(exc.errors)
    try:
        cleaned = fieldmap.clean_htcds(fieldmap.PARTY, htcds)
    except HtcdsValidationError as exc:
        error.errors.update(exc.errors)
        cleaned = {}
    if error.errors:
        raise error
    return changed + fieldmap.apply_values(party, fieldmap.PARTY, cleaned)


def refresh_case_tags(case: Case) -> None:
    """Keep the case's denormalised exploitation and country tags in step with its rows."""
    types = sorted(
        {
            t
            for values in case.parties.values_list("type_of_exploitation", flat=True)
            for t in values or []
        }
    )
    countries = sorted({c for c in case.events.values_list("country", flat=True) if c})
    exploitation = f"|{'|'.join(types)}|" if types else ""
    country = f"|{'|'.join(countries)}|" if countries else ""
    if (exploitation, country) != (case.exploitation_tags, case.country_tags):
        case.exploitation_tags, case.country_tags = exploitation, country
        case.save(update_fields=["exploitation_tags", "country_tags", "updated_at"])


def add_party(
    *,
    actor: Membership,
    case: Case,
    role: str,
    person: Person | None = None,
    person_data: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> CaseParty:
    """Add an existing person, or a new one from `person_data`, to a case in a role."""
    require(actor, Perm.EDIT_CASES)
    if person is None and person_data is None:
        raise CaseRuleError({"person": [_("Choose a person or enter a new one.")]})
    if person is not None and person.merged_into_id is not None:
        raise CaseRuleError({"person": [_("This record was merged into another.")]})
    with acting(actor):
        party = CaseParty(case=case, role="")
        changed = _clean_party(party, {"role": role, **(context or {})})
        if person is None:
            person = create_person(actor=actor, data=person_data or {})
        elif CaseParty.objects.filter(case=case, person=person).exists():
            raise CaseRuleError({"person": [_("This person is already in the case.")]})
        party.person = person
        party.save()
        refresh_case_tags(case)
        audit("case.party_add", party, changed)
    return party


def update_party(*, actor: Membership, party: CaseParty, data: dict[str, Any]) -> CaseParty:
    require(actor, Perm.EDIT_CASES)
    with acting(actor):
        changed = _clean_party(party, data)
        if changed:
            party.save()
            refresh_case_tags(party.case)
            audit("case.party_update", party, changed)
    return party


def merge_people(*, actor: Membership, keep: Person, duplicate: Person) -> Person:
    """Fold a duplicate into `keep`: its case roles and consents move over; empty identity fields
    of `keep` are filled from the duplicate; the duplicate stays, marked as merged, for the audit."""
    require(actor, Perm.EDIT_CASES)
    require(actor, Perm.VIEW_IDENTITY)
    if keep.pk == duplicate.pk:
        raise CaseRuleError({"duplicate": [_("A record cannot be merged into itself.")]})
    if keep.merged_into_id or duplicate.merged_into_id:
        raise CaseRuleError({"duplicate": [_("One of these records was already merged.")]})
    from tessera.consent.models import Consent

    with acting(actor):
        filled = []
        for name, attr in fieldmap.PERSON.attrs.items():
            mine, theirs = getattr(keep, attr), getattr(duplicate, attr)
            if mine in (None, "", []) and theirs not in (None, "", []):
                setattr(keep, attr, theirs)
                filled.append(name)
        keep.extensions = {**duplicate.extensions, **keep.extensions}
        keep.save()
        shared_cases = set(CaseParty.objects.filter(person=keep).values_list("case_id", flat=True))
        moved = 0
        for party in CaseParty.objects.filter(person=duplicate):
            if party.case_id in shared_cases:
                # Both records were in the same case: keep's role stays, the duplicate's goes.
                party.delete()
                continue
            party.person = keep
            party.save(update_fields=["person"])
            moved += 1
        Consent.objects.filter(person=duplicate).update(person=keep)
        duplicate.merged_into = keep
        duplicate.save(update_fields=["merged_into", "updated_at"])
        audit(
            "person.merge", keep, filled, reason=f"merged {duplicate.pk}; {moved} case roles moved"
        )
        audit("person.merged_into", duplicate, reason=f"into {keep.pk}")
    return keep


def record_identity_read(*, actor: Membership, person: Person, purpose: str = "view") -> None:
    """Reading sealed identity is itself audited (in the request's transaction)."""
    if not actor.has_perm(Perm.VIEW_IDENTITY):
        raise PermissionDenied
    with acting(actor):
        audit(
            "person.identity_read",
            person,
            sorted(fieldmap.IDENTITY_FIELDS),
            reason=purpose[:200],
        )


__all__ = [
    "add_party",
    "create_person",
    "merge_people",
    "record_identity_read",
    "refresh_case_tags",
    "update_party",
    "update_person",
]
