"""Turn one import unit into a case, through the ordinary audited case services."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.cases import services
from tessera.cases.documents import import_case_document
from tessera.cases.models import Case, CaseStatus
from tessera.cases.services.common import acting, audit
from tessera.exchange.duplicates import matching_people
from tessera.exchange.models import CtdcRecord, ImportedRecord, ImportJob
from tessera.exchange.units import Problem, Unit
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership


def duplicate_warnings(unit: Unit) -> list[Problem]:
    out = []
    for i, person in enumerate(unit.document.get("people") or []):
        if not isinstance(person, dict):
            continue
        for person_id, why in matching_people(person):
            out.append(
                unit.problem(
                    f"people[{i}]",
                    _(
                        "Matches existing person %(id)s (%(why)s): imported as a new person; "
                        "review and merge if it is the same person."
                    )
                    % {"id": person_id, "why": why},
                    level="warning",
                )
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
    from tessera.exchange.duplicates import matching_people_in_batch

    paths = [
        (unit, f"people[{i}]", person)
        for unit in units
        for i, person in enumerate(unit.document.get("people") or [])
    ]
    matches = matching_people_in_batch([person for _unit, _path, person in paths])
    out = []
    for (unit, path, _person), found in zip(paths, matches, strict=True):
        for person_id, why in found:
            out.append(
                unit.problem(
                    path,
                    _(
                        "Matches existing person %(id)s (%(why)s): imported as a new person; "
                        "review and merge if it is the same person."
                    )
                    % {"id": person_id, "why": why},
                    level="warning",
                )
            )
    return out
