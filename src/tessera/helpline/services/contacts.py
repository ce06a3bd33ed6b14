"""Recording and handling contacts: one keyword-only function per action, each in one transaction
with its audit event."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases import services as case_services
from tessera.cases.models import Case, Person
from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.helpline.cleaning import SEALED, apply_contact_data
from tessera.helpline.models import Contact, ContactPerson, TriageStatus
from tessera.helpline.selectors import CallerLookup
from tessera.tenancy.context import current_org
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def _region(actor: Membership) -> str | None:
    return actor.org.shipping_country or None


def _fields(changed: list[str]) -> list[str]:
    # Audit names, never values: sealed fields are listed like any other.
    return sorted(changed)


def record_contact(*, actor: Membership, data: dict[str, Any]) -> Contact:
    """Log a contact taken by an advisor (any channel); it is handled by them from the start."""
    require(actor, Perm.HANDLE_CONTACTS)
    values = dict(data)
    values.setdefault("started_at", timezone.now())
    with acting(actor):
        now = timezone.now()
        contact = Contact(handled_by=actor.user, answered_at=now, team=actor.team)
        changed = apply_contact_data(contact, values, region=_region(actor))
        if contact.answered_at and contact.answered_at < contact.started_at:
            contact.answered_at = contact.started_at
        contact.save()
        audit("contact.create", contact, _fields(changed))
    return contact


def update_contact(*, actor: Membership, contact: Contact, data: dict[str, Any]) -> Contact:
    require(actor, Perm.HANDLE_CONTACTS)
    with acting(actor):
        changed = apply_contact_data(contact, data, region=_region(actor))
        if changed:
            contact.save()
            audit("contact.update", contact, _fields(changed))
    return contact


def take_contact(*, actor: Membership, contact: Contact) -> Contact:
    """An advisor takes a waiting contact from the triage queue (this ends its waiting time)."""
    require(actor, Perm.HANDLE_CONTACTS)
    with acting(actor):
        if contact.answered_at is None:
            contact.answered_at = timezone.now()
        contact.handled_by = actor.user
        if contact.triage_status == TriageStatus.NEW:
            contact.triage_status = TriageStatus.IN_PROGRESS
        contact.save(update_fields=["answered_at", "handled_by", "triage_status", "updated_at"])
        audit("contact.take", contact, ["handled_by", "triage_status"])
    return contact


def close_contact(*, actor: Membership, contact: Contact, outcome: str) -> Contact:
    require(actor, Perm.HANDLE_CONTACTS)
    with acting(actor):
        changed = apply_contact_data(
            contact, {"outcome": outcome, "triage_status": TriageStatus.DONE}, region=None
        )
        if contact.ended_at is None and contact.source == "staff":
            contact.ended_at = timezone.now()
            changed.append("ended_at")
        contact.save()
        audit("contact.close", contact, _fields(changed))
    return contact


def link_contact_to_case(*, actor: Membership, contact: Contact, case: Case | None = None) -> Case:
    """Attach the contact to `case`, or open a new case for it. The caller must be able to see
    `case` (callers fetch it through cases.selectors.get_case)."""
    require(actor, Perm.HANDLE_CONTACTS)
    require(actor, Perm.EDIT_CASES)
    with acting(actor):
        if case is None:
            case = case_services.open_case(actor=actor, data={})
        if contact.case_id == case.pk:
            return case
        contact.case = case
        if contact.is_exploitation is None:
            contact.is_exploitation = True
        contact.save(update_fields=["case", "is_exploitation", "updated_at"])
        audit("contact.link_case", contact, ["case"])
    return case


def link_person(
    *, actor: Membership, contact: Contact, person: Person, role: str = ""
) -> ContactPerson:
    require(actor, Perm.HANDLE_CONTACTS)
    with acting(actor):
        if ContactPerson.objects.filter(contact=contact, person=person).exists():
            raise CaseRuleError({"person": [_("This person is already linked to the contact.")]})
        link: ContactPerson = ContactPerson.objects.create(
            contact=contact, person=person, role=role[:40]
        )
        audit("contact.link_person", contact, ["people"])
    return link


def record_lookup(*, actor: Membership, result: CallerLookup) -> None:
    """A caller lookup reads identifying data (who called from this number): audited, without the
    number itself."""
    # Called inside the request's own organisation transaction, the audit row needs no second
    # context (each nested context costs round trips on the telephony hot path).
    context: AbstractContextManager[Any] = (
        nullcontext() if current_org() == actor.org else acting(actor)
    )
    with context:
        record(
            action="helpline.lookup",
            object_type="Contact",
            # The most recent matching contact (audit ids hold one id); the count is in the reason.
            object_id=str(result.contacts[0].pk) if result.contacts else "",
            fields=["caller_phone_index"],
            reason=f"{len(result.contacts)} contacts, {len(result.cases)} open cases",
        )


def record_caller_read(*, actor: Membership, contact: Contact, purpose: str) -> None:
    """Opening a contact's sealed caller details is a read of identifying data: audited."""
    with acting(actor):
        audit("contact.identity_read", contact, sorted(SEALED), reason=purpose[:200])
