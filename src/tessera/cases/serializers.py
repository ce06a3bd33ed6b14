"""Case data as JSON with exact HTCDS names, for the API and HTCDS documents."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.cases import fieldmap
from tessera.cases.models import (
    Case,
    CaseNote,
    CaseParty,
    Person,
    SupportGoal,
    SupportPlan,
    TraffickingEvent,
)
from tessera.consent.models import Consent


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# What a case's JSON is made of, as `.values()` names: the list reads exactly these, so a page of
# cases builds no model instances and reads no owner row (its e-mail only, not its password hash).
CASE_ROW_COLUMNS = (
    "id",
    "reference",
    "status",
    "owner_email",
    *fieldmap.CASE.attrs.values(),
    "sensitivity",
    "team",
    "opened_on",
    "closed_on",
    "closure_requested_at",
    "extensions",
)


def case_out(case: Case) -> dict[str, Any]:
    row = {column: getattr(case, column, None) for column in CASE_ROW_COLUMNS}
    row["owner_email"] = case.owner.email if case.owner_id and case.owner else None
    return case_row_out(row)


def case_row_out(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "reference": row["reference"],
        "cas_Status": row["status"],
        "cas_CaseOwner": row["owner_email"],
        **fieldmap.export_row(row, fieldmap.CASE),
        "sensitivity": row["sensitivity"],
        "team": row["team"],
        "opened_on": _iso(row["opened_on"]),
        "closed_on": _iso(row["closed_on"]),
        "closure_requested": row["closure_requested_at"] is not None,
        "extensions": row["extensions"],
    }


def person_out(person: Person, *, with_identity: bool) -> dict[str, Any]:
    """Identity fields are included only for holders of Perm.VIEW_IDENTITY (callers decide)."""
    values = fieldmap.export_values(person, fieldmap.PERSON)
    if not with_identity:
        values = {k: v for k, v in values.items() if k not in fieldmap.IDENTITY_FIELDS}
    return {"id": str(person.pk), **values, "extensions": person.extensions}


def party_out(party: CaseParty) -> dict[str, Any]:
    return {
        "id": str(party.pk),
        "case_id": str(party.case_id),
        "person_id": str(party.person_id),
        "role": party.role,
        **fieldmap.export_values(party, fieldmap.PARTY),
        "extensions": party.extensions,
    }


def event_out(event: TraffickingEvent) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "case_id": str(event.case_id),
        **fieldmap.export_values(event, fieldmap.EVENT),
        "end_date": _iso(event.end_date),
        "extensions": event.extensions,
    }


def goal_out(goal: SupportGoal) -> dict[str, Any]:
    return {
        "id": str(goal.pk),
        "description": goal.description,
        "status": goal.status,
        "outcome": goal.outcome,
        "target_date": _iso(goal.target_date),
    }


def plan_out(plan: SupportPlan) -> dict[str, Any]:
    return {
        "id": str(plan.pk),
        "case_id": str(plan.case_id),
        **fieldmap.export_values(plan, fieldmap.PLAN),
        "goals": [goal_out(g) for g in plan.goals.all()],
        "extensions": plan.extensions,
    }


def note_out(note: CaseNote) -> dict[str, Any]:
    return {
        "id": str(note.pk),
        "case_id": str(note.case_id),
        "kind": note.kind,
        "cco_CaseComment": note.body,
        "occurred_at": _iso(note.occurred_at),
        "author": note.author.email if note.author_id and note.author else None,
    }


def consent_out(consent: Consent) -> dict[str, Any]:
    return {
        "id": str(consent.pk),
        "person_id": str(consent.person_id),
        "case_id": str(consent.case_id) if consent.case_id else None,
        "purpose": consent.purpose,
        "con_Consent": consent.is_given,
        "evidence": consent.evidence,
        "recorded_at": _iso(consent.recorded_at),
        "recorded_by": consent.recorded_by.email
        if consent.recorded_by_id and consent.recorded_by
        else None,
    }
