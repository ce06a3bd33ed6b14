"""Opening, updating and closing cases. Closure is a request that a supervisor approves."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.cases import fieldmap
from tessera.cases.models import Case, CaseSequence, CaseStatus, Sensitivity
from tessera.cases.models.case import OPEN_STATUSES
from tessera.cases.services.common import CaseRuleError, acting, audit, require, split_payload
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

CLOSED_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.CLOSED_REFERRED})
_OWN_FIELDS = {"team", "sensitivity", "opened_on", "extensions"}


def _next_reference(today: date) -> str:
    sequence, _created = CaseSequence.objects.select_for_update().get_or_create()
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"{today.year}-{sequence.last_number:06d}"


def _apply_own(case: Case, own: dict[str, Any], actor: Membership) -> list[str]:
    error = CaseRuleError()
    changed = []
    for key, value in own.items():
        if key not in _OWN_FIELDS:
            error.add(key, _("%(field)s is not a field of this record.") % {"field": key})
        elif key == "sensitivity":
            if value not in Sensitivity.values:
                error.add(
                    key, _("%(value)s is not a value of sensitivity.") % {"value": repr(value)}
                )
            elif value != case.sensitivity:
                case.sensitivity = value
                changed.append(key)
        elif key == "team":
            if not isinstance(value, str) or len(value) > 100:
                error.add(key, _("team must be text of at most 100 characters."))
            elif value != case.team:
                case.team = value
                changed.append(key)
        elif key == "opened_on":
            try:
                opened = value if isinstance(value, date) else date.fromisoformat(str(value))
            except ValueError:
                error.add(key, _("opened_on must be a date (YYYY-MM-DD)."))
                continue
            if opened > timezone.localdate():
                error.add(key, _("opened_on cannot be in the future."))
            elif opened != case.opened_on:
                case.opened_on = opened
                changed.append(key)
        elif key == "extensions":
            try:
                changed += fieldmap.apply_extensions(case, "case", value)
            except HtcdsValidationError as exc:
                error.errors.update(exc.errors)
    if error.errors:
        raise error
    return changed


def open_case(*, actor: Membership, data: dict[str, Any] | None = None) -> Case:
    """Open a case owned by the actor. `data` holds HTCDS cas_ fields and team/sensitivity."""
    require(actor, Perm.EDIT_CASES)
    htcds, own = split_payload(dict(data or {}))
    status = htcds.pop("cas_Status", CaseStatus.ACTIVE) or CaseStatus.ACTIVE
    if status not in OPEN_STATUSES:
        raise CaseRuleError({"cas_Status": [_("A new case must be Active or FollowUp.")]})
    htcds.pop("cas_CaseOwner", None)
    with acting(actor):
        cleaned = fieldmap.clean_htcds(fieldmap.CASE, htcds)
        today = timezone.localdate()
        case = Case(owner=actor.user, status=status, opened_on=today, team=actor.team)
        if own.get("extensions") is None:
            case.extensions = fieldmap.clean_extensions("case", {})
        changed = fieldmap.apply_values(case, fieldmap.CASE, cleaned)
        changed += _apply_own(case, own, actor)
        case.reference = _next_reference(today)
        case.save()
        audit("case.open", case, ["cas_Status", "cas_CaseOwner", *changed])
    return case


def update_case(*, actor: Membership, case: Case, data: dict[str, Any]) -> Case:
    require(actor, Perm.EDIT_CASES)
    htcds, own = split_payload(dict(data))
    for name in ("cas_Status", "cas_CaseOwner"):
        if name in htcds:
            raise CaseRuleError(
                {name: [_("%(field)s changes through its own action.") % {"field": name}]}
            )
    with acting(actor):
        cleaned = fieldmap.clean_htcds(fieldmap.CASE, htcds)
        if "sensitivity" in own:
            require(actor, Perm.ASSIGN_CASES)
        changed = fieldmap.apply_values(case, fieldmap.CASE, cleaned)
        changed += _apply_own(case, own, actor)
        if changed:
            case.save()
            audit("case.update", case, changed)
    return case


def change_status(*, actor: Membership, case: Case, status: str) -> Case:
    """Move between open statuses; reopening a closed case needs a supervisor."""
    require(actor, Perm.EDIT_CASES)
    if status not in CaseStatus.values:
        raise CaseRuleError(
            {"cas_Status": [_("%(value)s is not a value of cas_Status.") % {"value": repr(status)}]}
        )
    if status in CLOSED_STATUSES:
        raise CaseRuleError(
            {"cas_Status": [_("Request closure instead: a supervisor approves it.")]}
        )
    if not case.is_open:
        require(actor, Perm.APPROVE_CLOSURE)
    with acting(actor):
        previous = case.status
        case.status = status
        case.closed_on = None
        case.save(update_fields=["status", "closed_on", "updated_at"])
        audit("case.status", case, ["cas_Status"], reason=f"{previous}→{status}")
    return case


def request_closure(
    *, actor: Membership, case: Case, reason: str, status: str = CaseStatus.CLOSED
) -> Case:
    require(actor, Perm.EDIT_CASES)
    error = CaseRuleError()
    if status not in CLOSED_STATUSES:
        error.add("cas_Status", _("Closure status must be Closed or ClosedReferred."))
    if not reason.strip():
        error.add("cas_ReasonForCaseClosure", _("Give the reason for closing the case."))
    if not case.is_open:
        error.add("cas_Status", _("The case is already closed."))
    if error.errors:
        raise error
    with acting(actor):
        case.reason_for_case_closure = reason.strip()
        case.requested_status = status
        case.closure_requested_by = actor.user
        case.closure_requested_at = timezone.now()
        case.save()
        audit("case.closure_request", case, ["cas_ReasonForCaseClosure"])
    return case


def approve_closure(*, actor: Membership, case: Case) -> Case:
    """A supervisor closes the case; nobody approves their own request."""
    require(actor, Perm.APPROVE_CLOSURE)
    if not case.has_pending_closure:
        raise CaseRuleError({"cas_Status": [_("No closure has been requested.")]})
    if case.closure_requested_by_id == actor.user_id:
        raise PermissionDenied(_("Another supervisor must approve your own closure request."))
    with acting(actor):
        case.status = case.requested_status or CaseStatus.CLOSED
        case.closed_on = timezone.localdate()
        case.closure_requested_at = None
        case.requested_status = ""
        case.save()
        audit("case.closure_approve", case, ["cas_Status"])
    return case


def reject_closure(*, actor: Membership, case: Case, reason: str = "") -> Case:
    require(actor, Perm.APPROVE_CLOSURE)
    if not case.has_pending_closure:
        raise CaseRuleError({"cas_Status": [_("No closure has been requested.")]})
    with acting(actor):
        case.closure_requested_at = None
        case.closure_requested_by = None
        case.requested_status = ""
        case.save()
        audit("case.closure_reject", case, reason=reason[:500])
    return case


def owner_in_org(actor: Membership, user: User | None) -> User | None:
    if (
        user is not None
        and not Membership.objects.filter(user=user, org=actor.org, is_active=True).exists()
    ):
        raise CaseRuleError(
            {"cas_CaseOwner": [_("The owner must be an active member of the organisation.")]}
        )
    return user
