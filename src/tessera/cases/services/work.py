"""Trafficking events, support plans with goals, and case notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from tessera.cases import fieldmap
from tessera.cases.models import (
    Case,
    CaseNote,
    GoalStatus,
    NoteKind,
    SupportGoal,
    SupportPlan,
    TraffickingEvent,
)
from tessera.cases.services.common import CaseRuleError, acting, audit, require, split_payload
from tessera.cases.services.people import refresh_case_tags
from tessera.htcds.validation import MAX_LONG_TEXT, HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def _clean(
    instance: Any, entity: fieldmap.EntityMap, data: dict[str, Any], own_fields: set[str]
) -> list[str]:
    htcds, own = split_payload(data)
    error = HtcdsValidationError()
    changed: list[str] = []
    try:
        changed += fieldmap.apply_values(instance, entity, fieldmap.clean_htcds(entity, htcds))
    except HtcdsValidationError as exc:
        error.errors.update(exc.errors)
    if "extensions" in own_fields and ("extensions" in own or instance._state.adding):
        try:
            changed += fieldmap.apply_extensions(instance, entity.entity, own.get("extensions", {}))
        except HtcdsValidationError as exc:
            error.errors.update(exc.errors)
    for key, value in own.items():
        if key == "extensions" and key in own_fields:
            continue
        if key == "end_date" and key in own_fields:
            try:
                instance.end_date = fieldmap.coerce_value_date(value, "end_date")
                changed.append(key)
            except ValueError as exc:
                error.add(key, str(exc))
        else:
            error.add(key, _("%(field)s is not a field of this record.") % {"field": key})
    if error.errors:
        raise error
    return changed


def record_event(*, actor: Membership, case: Case, data: dict[str, Any]) -> TraffickingEvent:
    """Record a recruitment, transit or exploitation event (hte_Type is required)."""
    require(actor, Perm.EDIT_CASES)
    if not data.get("hte_Type"):
        raise CaseRuleError({"hte_Type": [_("hte_Type is required.")]})
    with acting(actor):
        event = TraffickingEvent(case=case)
        changed = _clean(event, fieldmap.EVENT, data, {"extensions", "end_date"})
        if event.end_date and event.date and event.end_date < event.date:
            raise CaseRuleError({"end_date": [_("end_date is before hte_Date.")]})
        event.save()
        refresh_case_tags(case)
        audit("case.event_record", event, changed)
    return event


def update_event(
    *, actor: Membership, event: TraffickingEvent, data: dict[str, Any]
) -> TraffickingEvent:
    require(actor, Perm.EDIT_CASES)
    if "hte_Type" in data and not data["hte_Type"]:
        raise CaseRuleError({"hte_Type": [_("hte_Type is required.")]})
    with acting(actor):
        changed = _clean(event, fieldmap.EVENT, data, {"extensions", "end_date"})
        if changed:
            event.save()
            refresh_case_tags(event.case)
            audit("case.event_update", event, changed)
    return event


def create_support_plan(*, actor: Membership, case: Case, data: dict[str, Any]) -> SupportPlan:
    require(actor, Perm.EDIT_CASES)
    with acting(actor):
        plan = SupportPlan(case=case)
        changed = _clean(plan, fieldmap.PLAN, data, {"extensions"})
        plan.save()
        audit("case.plan_create", plan, changed)
    return plan


def update_support_plan(
    *, actor: Membership, plan: SupportPlan, data: dict[str, Any]
) -> SupportPlan:
    require(actor, Perm.EDIT_CASES)
    with acting(actor):
        changed = _clean(plan, fieldmap.PLAN, data, {"extensions"})
        if changed:
            plan.save()
            audit("case.plan_update", plan, changed)
    return plan


def _goal_values(goal: SupportGoal, data: dict[str, Any]) -> list[str]:
    error = HtcdsValidationError()
    changed = []
    for key, value in data.items():
        if key == "description":
            if not isinstance(value, str) or not value.strip() or len(value) > 255:
                error.add(key, _("description must be text of 1 to 255 characters."))
                continue
            goal.description = value.strip()
        elif key == "status":
            if value not in GoalStatus.values:
                error.add(key, _("%(value)s is not a value of status.") % {"value": repr(value)})
                continue
            goal.status = value
        elif key == "outcome":
            if not isinstance(value, str) or len(value) > MAX_LONG_TEXT:
                error.add(key, _("outcome must be text."))
                continue
            goal.outcome = value
        elif key == "target_date":
            try:
                goal.target_date = fieldmap.coerce_value_date(value, "target_date")
            except ValueError as exc:
                error.add(key, str(exc))
                continue
        else:
            error.add(key, _("%(field)s is not a field of this record.") % {"field": key})
            continue
        changed.append(key)
    if error.errors:
        raise error
    return changed


def add_goal(*, actor: Membership, plan: SupportPlan, data: dict[str, Any]) -> SupportGoal:
    require(actor, Perm.EDIT_CASES)
    if not data.get("description"):
        raise CaseRuleError({"description": [_("Describe the goal.")]})
    with acting(actor):
        goal = SupportGoal(plan=plan)
        changed = _goal_values(goal, data)
        goal.save()
        audit("case.goal_add", goal, changed)
    return goal


def update_goal(*, actor: Membership, goal: SupportGoal, data: dict[str, Any]) -> SupportGoal:
    """Progress and outcome of a goal: the record of what support achieved."""
    require(actor, Perm.EDIT_CASES)
    with acting(actor):
        changed = _goal_values(goal, data)
        if changed:
            goal.save()
            audit("case.goal_update", goal, changed)
    return goal


def add_note(
    *,
    actor: Membership,
    case: Case,
    body: str,
    kind: str = NoteKind.NOTE,
    occurred_at: datetime | str | None = None,
) -> CaseNote:
    require(actor, Perm.EDIT_CASES)
    error = HtcdsValidationError()
    if not isinstance(body, str) or not body.strip():
        error.add("cco_CaseComment", _("cco_CaseComment must not be empty."))
    elif len(body) > MAX_LONG_TEXT:
        error.add("cco_CaseComment", _("cco_CaseComment is too long."))
    if kind not in NoteKind.values:
        error.add("kind", _("%(value)s is not a value of kind.") % {"value": repr(kind)})
    when = timezone.now()
    if isinstance(occurred_at, str) and occurred_at:
        parsed = parse_datetime(occurred_at)
        if parsed is None:
            error.add("occurred_at", _("occurred_at must be a date and time (ISO 8601)."))
        else:
            when = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
    elif isinstance(occurred_at, datetime):
        when = occurred_at
    if error.errors:
        raise error
    with acting(actor):
        note: CaseNote = CaseNote.objects.create(
            case=case, body=body.strip(), kind=kind, occurred_at=when, author=actor.user
        )
        audit("case.note_add", note, ["cco_CaseComment"])
    return note
