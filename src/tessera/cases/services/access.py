"""Assignment, sensitivity, named access and break-glass."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.cases.models import BreakGlassGrant, Case, CaseAccessGrant, Sensitivity
from tessera.cases.services.cases import owner_in_org
from tessera.cases.services.common import CaseRuleError, acting, audit, require
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

BREAK_GLASS_DURATION = timedelta(hours=1)
MIN_REASON_LENGTH = 10


def assign_case(
    *, actor: Membership, case: Case, owner: User | None, team: str | None = None
) -> Case:
    require(actor, Perm.ASSIGN_CASES)
    with acting(actor):
        case.owner = owner_in_org(actor, owner)
        changed = ["cas_CaseOwner"]
        if team is not None:
            case.team = team[:100]
            changed.append("team")
        case.save()
        audit("case.assign", case, changed)
    return case


def set_sensitivity(*, actor: Membership, case: Case, sensitivity: str) -> Case:
    require(actor, Perm.ASSIGN_CASES)
    if sensitivity not in Sensitivity.values:
        raise CaseRuleError(
            {
                "sensitivity": [
                    _("%(value)s is not a value of sensitivity.") % {"value": repr(sensitivity)}
                ]
            }
        )
    with acting(actor):
        previous = case.sensitivity
        case.sensitivity = sensitivity
        case.save(update_fields=["sensitivity", "updated_at"])
        audit("case.sensitivity", case, ["sensitivity"], reason=f"{previous}→{sensitivity}")
    return case


def grant_case_access(*, actor: Membership, case: Case, user: User) -> CaseAccessGrant:
    require(actor, Perm.ASSIGN_CASES)
    owner_in_org(actor, user)
    with acting(actor):
        grant: CaseAccessGrant
        grant, _created = CaseAccessGrant.objects.get_or_create(
            case=case, user=user, defaults={"granted_by": actor.user}
        )
        audit("case.access_grant", case, reason=f"user {user.pk}")
    return grant


def revoke_case_access(*, actor: Membership, case: Case, user: User) -> None:
    require(actor, Perm.ASSIGN_CASES)
    with acting(actor):
        CaseAccessGrant.objects.filter(case=case, user=user).delete()
        audit("case.access_revoke", case, reason=f"user {user.pk}")


def break_glass(*, actor: Membership, case: Case, reason: str) -> BreakGlassGrant:
    """Open a case the actor may not otherwise see, for one hour, stating why."""
    require(actor, Perm.BREAK_GLASS)
    reason = reason.strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise CaseRuleError(
            {
                "reason": [
                    _("Explain why you need access (at least %(n)s characters).")
                    % {"n": MIN_REASON_LENGTH}
                ]
            }
        )
    with acting(actor):
        grant: BreakGlassGrant = BreakGlassGrant.objects.create(
            case=case,
            user=actor.user,
            reason=reason[:2000],
            expires_at=timezone.now() + BREAK_GLASS_DURATION,
        )
        audit("case.break_glass", case, reason=reason[:2000])
    return grant
