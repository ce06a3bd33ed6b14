"""The bulk path for flat imports (CSV, Excel, XLSForm submissions): the same validation as the case
services, done in Python, then one INSERT per table per batch, subject keys created per batch, and
one audit event per batch naming its rows and cases (see docs/decisions/0007-imports.md).

A unit qualifies when it holds only what flat files carry (case, people, consent, comments) and the
organisation defines no extension fields (their rules live in the services); anything else takes
the per-case service path.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases import fieldmap
from tessera.cases.models import Case, CaseNote, CaseParty, CaseStatus, ExtensionField, Person
from tessera.cases.models.case import CaseSequence
from tessera.cases.services.cases import _apply_own
from tessera.cases.services.common import split_payload
from tessera.consent.models import Consent, Purpose
from tessera.exchange.models import ImportedRecord, ImportJob
from tessera.exchange.units import Unit
from tessera.htcds.schema import PERSON_FIELDS
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.vault.bulk import create_subject_keys, seal_with

FLAT_PARTS = frozenset({"case", "people", "consent", "comments"})
OPEN = (CaseStatus.ACTIVE, CaseStatus.FOLLOW_UP)


@dataclass
class Prepared:
    """A unit's rows, built and validated, not yet saved."""

    unit: Unit
    case: Case
    people: list[Person] = field(default_factory=list)
    parties: list[CaseParty] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    notes: list[CaseNote] = field(default_factory=list)


def qualifies(units: list[Unit]) -> bool:
    if ExtensionField.objects.filter(is_active=True).exists():
        return False
    return all(set(u.document) <= FLAT_PARTS for u in units if u.document)


@contextmanager
def _at(path: str) -> Iterator[None]:
    try:
        yield
    except HtcdsValidationError as exc:
        raise HtcdsValidationError({f"{path}.{k}": v for k, v in exc.errors.items()}) from None


def prepare(actor: Membership, unit: Unit, owners: dict[str, Any]) -> Prepared:
    """Build the unit's rows with the services' rules; HtcdsValidationError names document paths."""
    today = timezone.localdate()
    now = timezone.now()
    htcds, own = split_payload(dict(unit.document.get("case") or {}))
    status = htcds.pop("cas_Status", None) or CaseStatus.ACTIVE
    htcds.pop("cas_CaseOwner", None)
    case = Case(
        id=uuid.uuid4(),
        org=actor.org,
        owner=actor.user,
        status=status,
        opened_on=today,
        team=actor.team,
        extensions={},
    )
    with _at("case"):
        if status not in OPEN:
            raise HtcdsValidationError(
                {"cas_Status": [_("A new case must be Active or FollowUp.")]}
            )
        fieldmap.apply_values(case, fieldmap.CASE, fieldmap.clean_htcds(fieldmap.CASE, htcds))
        _apply_own(case, own, actor)
    prepared = Prepared(unit=unit, case=case)
    refs: dict[str, Person] = {}
    for i, entry in enumerate(unit.document.get("people") or []):
        data = dict(entry)
        ref, role = str(data.pop("ref", "") or f"#{i}"), data.pop("role", "")
        with _at(f"people[{i}]"):
            if role not in {r.value for r in fieldmap_roles()}:
                raise HtcdsValidationError(
                    {"role": [_("%(value)s is not a value of role.") % {"value": repr(role)}]}
                )
            person = Person(id=uuid.uuid4(), org=actor.org, extensions={})
            person_data = {k: v for k, v in data.items() if k in PERSON_FIELDS}
            context = {k: v for k, v in data.items() if k not in PERSON_FIELDS}
            fieldmap.apply_values(
                person, fieldmap.PERSON, fieldmap.clean_htcds(fieldmap.PERSON, person_data)
            )
            party = CaseParty(
                id=uuid.uuid4(), org=actor.org, case=case, person=person, role=role, extensions={}
            )
            fieldmap.apply_values(
                party, fieldmap.PARTY, fieldmap.clean_htcds(fieldmap.PARTY, context)
            )
        refs[ref] = person
        prepared.people.append(person)
        prepared.parties.append(party)
    for i, entry in enumerate(unit.document.get("consent") or []):
        with _at(f"consent[{i}]"):
            person_or_none = refs.get(str(entry.get("ref", "")))
            if person_or_none is None:
                raise HtcdsValidationError({"ref": [_("ref must name a person in this document.")]})
            if entry.get("purpose") not in Purpose.values or not isinstance(
                entry.get("con_Consent"), bool
            ):
                raise HtcdsValidationError(
                    {"purpose": [_("A consent needs a purpose and true or false.")]}
                )
            prepared.consents.append(
                Consent(
                    id=uuid.uuid4(),
                    org=actor.org,
                    person=person_or_none,
                    case=case,
                    purpose=entry["purpose"],
                    is_given=entry["con_Consent"],
                    evidence="",
                    recorded_at=now,
                    recorded_by=actor.user,
                )
            )
    bodies = [str(c.get("cco_CaseComment") or "") for c in unit.document.get("comments") or []]
    if unit.owner_email:
        owner = owners.get(unit.owner_email.casefold())
        if owner is not None:
            case.owner = owner
        else:
            bodies.append(
                _("Case owner in the imported file: %(owner)s") % {"owner": unit.owner_email}
            )
    if unit.status:
        if unit.status not in CaseStatus.values:
            raise HtcdsValidationError(
                {
                    "case.cas_Status": [
                        _("%(value)s is not a value of cas_Status.") % {"value": repr(unit.status)}
                    ]
                }
            )
        case.status, case.closed_on = unit.status, today
    for body in bodies:
        prepared.notes.append(
            CaseNote(
                id=uuid.uuid4(),
                org=actor.org,
                case=case,
                kind="note",
                body=body,
                occurred_at=now,
                author=actor.user,
            )
        )
    types = sorted({t for p in prepared.parties for t in p.type_of_exploitation or []})
    case.exploitation_tags = f"|{'|'.join(types)}|" if types else ""
    return prepared


def fieldmap_roles() -> Any:
    from tessera.cases.models import PartyRole

    return PartyRole


def member_emails(actor: Membership) -> dict[str, Any]:
    return {
        m.user.email.casefold(): m.user
        for m in Membership.objects.filter(org=actor.org, is_active=True).select_related("user")
    }


def save_batch(actor: Membership, batch: list[Prepared], job: ImportJob) -> list[str]:
    """Insert a batch (inside the caller's transaction). Returns the new case references."""
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create(org=actor.org)
    year = timezone.localdate().year
    for offset, item in enumerate(batch, start=1):
        item.case.reference = f"{year}-{sequence.last_number + offset:06d}"
    sequence.last_number += len(batch)
    sequence.save(update_fields=["last_number"])
    people = [p for item in batch for p in item.people]
    notes = [n for item in batch for n in item.notes]
    keys = create_subject_keys([p.pk for p in people] + [n.pk for n in notes])
    for row in (*people, *notes):
        seal_with(row, keys[row.pk])
    Case.objects.bulk_create([item.case for item in batch])
    Person.objects.bulk_create(people, batch_size=500)
    CaseParty.objects.bulk_create([p for item in batch for p in item.parties], batch_size=500)
    Consent.objects.bulk_create([c for item in batch for c in item.consents], batch_size=500)
    CaseNote.objects.bulk_create(notes, batch_size=500)
    ImportedRecord.objects.bulk_create(
        [
            ImportedRecord(org=actor.org, source_key=item.unit.key, job=job, case=item.case)
            for item in batch
        ]
    )
    references = [item.case.reference for item in batch]
    if batch:
        written = sorted(
            {*fieldmap.PERSON.attrs, *fieldmap.PARTY.attrs, *fieldmap.CASE.attrs, "con_Consent"}
        )
        record(
            action="exchange.import_batch_bulk",
            object_type="ImportJob",
            object_id=str(job.pk),
            fields=written,
            reason=(
                f"rows {batch[0].unit.first_row}-{max(i.unit.first_row for i in batch)}: "
                f"cases {references[0]}..{references[-1]} ({len(batch)}), "
                f"{len(people)} people, {sum(len(i.consents) for i in batch)} consents"
            ),
        )
    return references
