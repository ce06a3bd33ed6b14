"""Write import units: one case at a time through the ordinary audited case services, or staged
bulk units a batch at a time (one INSERT per table, one audit event per batch)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases import fieldmap, services
from tessera.cases.documents import import_case_document
from tessera.cases.models import Case, CaseNote, CaseParty, CaseStatus, Person
from tessera.cases.models.case import CaseSequence
from tessera.cases.services.common import acting, audit
from tessera.consent.models import Consent
from tessera.exchange.duplicates import (
    DuplicateCheck,
    matching_indexes_in_batch,
    matching_people,
    matching_people_in_batch,
)
from tessera.exchange.models import CtdcRecord, ImportedRecord, ImportJob
from tessera.exchange.row_writer import insert_rows
from tessera.exchange.staging import StagedUnit
from tessera.exchange.units import Problem, Unit
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.vault.models import SubjectKey


def duplicate_warnings(unit: Unit) -> list[Problem]:
    out = []
    for i, person in enumerate(unit.document.get("people") or []):
        if not isinstance(person, dict):
            continue
        for person_id, why in matching_people(person):
            out.append(
                unit.problem(f"people[{i}]", _duplicate_message(person_id, why), level="warning")
            )
    return out


def import_unit(*, actor: Membership, unit: Unit, job: ImportJob | None) -> Case:
    """Create the unit's case and everything in it; raises HtcdsValidationError (with document
    paths) if any value is refused, having written nothing."""
    with acting(actor):
        case = import_case_document(actor=actor, document=unit.document)
        if unit.owner_email:
            owner = (
                Membership.objects.filter(
                    org=actor.org, is_active=True, user__email__iexact=unit.owner_email
                )
                .select_related("user")
                .first()
            )
            if owner is not None:
                case.owner = owner.user
                case.save(update_fields=["owner", "updated_at"])
                audit("case.assign", case, ["cas_CaseOwner"], reason="import")
            else:
                services.add_note(
                    actor=actor,
                    case=case,
                    body=_("Case owner in the imported file: %(owner)s")
                    % {"owner": unit.owner_email},
                )
        if unit.status:
            if unit.status not in CaseStatus.values:
                raise HtcdsValidationError(
                    {
                        "case.cas_Status": [
                            _("%(value)s is not a value of cas_Status.")
                            % {"value": repr(unit.status)}
                        ]
                    }
                )
            case.status = unit.status
            case.closed_on = timezone.localdate()
            case.save(update_fields=["status", "closed_on", "updated_at"])
            audit("case.import_status", case, ["cas_Status"], reason="closed in the source")
        if job is not None:
            ImportedRecord.objects.create(source_key=unit.key, job=job, case=case)
    return case


def _flag(value: Any) -> bool | None:
    return {"1": True, "0": False}.get(str(value)) if value is not None else None


def store_ctdc_records(units: list[Unit], job: ImportJob) -> None:
    """CTDC rows go to the analytics table in one statement per batch (they are not people)."""
    rows = []
    for unit in units:
        values = unit.document["values"]
        rows.append(
            CtdcRecord(
                dataset=unit.document["dataset"],
                source_key=unit.key,
                job=job,
                year=str(values.get("yearOfRegistration") or values.get("yearRegister") or "")[:16],
                gender=str(values.get("gender") or "")[:40],
                is_forced_labour=_flag(values.get("isForcedLabour")),
                is_sexual_exploit=_flag(values.get("isSexualExploit")),
                values=values,
            )
        )
    for row in rows:
        row.org = job.org
    CtdcRecord.objects.bulk_create(rows, batch_size=1000)


def batch_duplicate_warnings(units: list[Unit]) -> list[Problem]:
    """`duplicate_warnings` for a batch of units with one query."""
    paths = [
        (unit, f"people[{i}]", person)
        for unit in units
        for i, person in enumerate(unit.document.get("people") or [])
    ]
    matches = matching_people_in_batch([person for _unit, _path, person in paths])
    out = []
    for (unit, path, _person), found in zip(paths, matches, strict=True):
        for person_id, why in found:
            out.append(unit.problem(path, _duplicate_message(person_id, why), level="warning"))
    return out


def staged_duplicate_warnings(checks: list[DuplicateCheck]) -> list[Problem]:
    """`batch_duplicate_warnings` for units whose people's indexes are already computed (staged
    units). A person is reported on the first row of their case, where `Unit.problem` places a
    `people[i]` path."""
    paths = [(row, i, indexes) for row, people in checks for i, indexes in enumerate(people)]
    matches = matching_indexes_in_batch([indexes for _row, _i, indexes in paths])
    return [
        Problem(row, "", f"people[{i}]", _duplicate_message(person_id, why), "warning")
        for (row, i, _indexes), found in zip(paths, matches, strict=True)
        for person_id, why in found
    ]


def _duplicate_message(person_id: str, why: str) -> str:
    return _(
        "Matches existing person %(id)s (%(why)s): imported as a new person; "
        "review and merge if it is the same person."
    ) % {"id": person_id, "why": why}


def save_batch(actor: Membership, units: list[StagedUnit], job: ImportJob) -> list[str]:
    """Insert staged units (inside the caller's transaction) and record one audit event for them.
    Returns the new case references."""
    if not units:
        return []
    now = timezone.now()
    today = timezone.localdate()
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create(org=actor.org)
    cases = []
    for offset, unit in enumerate(units, start=1):
        case = dict(unit.case, reference=f"{today.year}-{sequence.last_number + offset:06d}")
        if unit.closed:
            case["closed_on"] = today.isoformat()
        cases.append(case)
    sequence.last_number += len(units)
    sequence.save(update_fields=["last_number"])
    people = [row for unit in units for row in unit.people]
    consents = [row for unit in units for row in unit.consents]
    by_user = {"recorded_by_id": actor.user_id}
    insert_rows(Case, cases, now=now, constants={"opened_on": today})
    insert_rows(Person, people, now=now)
    insert_rows(SubjectKey, [row for unit in units for row in unit.subject_keys], now=now)
    insert_rows(CaseParty, [row for unit in units for row in unit.parties], now=now)
    insert_rows(Consent, consents, now=now, constants=by_user, stamped=["recorded_at"])
    insert_rows(
        CaseNote,
        [row for unit in units for row in unit.notes],
        now=now,
        constants={"author_id": actor.user_id},
        stamped=["occurred_at"],
    )
    insert_rows(
        ImportedRecord,
        [{"source_key": u.key, "job_id": job.pk.hex, "case_id": u.case["id"]} for u in units],
        now=now,
    )
    references = [case["reference"] for case in cases]
    written = sorted(
        {*fieldmap.PERSON.attrs, *fieldmap.PARTY.attrs, *fieldmap.CASE.attrs, "con_Consent"}
    )
    record(
        action="exchange.import_batch_bulk",
        object_type="ImportJob",
        object_id=str(job.pk),
        fields=written,
        reason=(
            f"rows {units[0].first_row}-{max(u.first_row for u in units)}: "
            f"cases {references[0]}..{references[-1]} ({len(units)}), "
            f"{len(people)} people, {len(consents)} consents"
        ),
    )
    return references
