"""The access rule for cases, and the reads of single records under it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tessera.cases.models import (
    BreakGlassGrant,
    Case,
    CaseAccessGrant,
    CaseNote,
    CaseParty,
    Sensitivity,
    SupportGoal,
    SupportPlan,
    TraffickingEvent,
)
from tessera.cases.selectors import compiled
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


@dataclass(frozen=True)
class Visibility:
    """The access rule in three parts: standard cases, the restricted cases the actor's team or
    role opens, and the actor's own (owned, named on, or opened by break-glass)."""

    standard: Q
    restricted: Q | None
    mine: Q

    def any(self) -> Q:
        # Column tests before the sub-selects: most cases are decided by the first.
        opened = self.standard if self.restricted is None else self.standard | self.restricted
        return opened | self.mine

    def disjoint_parts(self) -> list[Q]:
        """The same cases as `any()`, split so that no case is in two parts and each part is one
        range of a partial index: a count adds the parts instead of testing every case."""
        not_open_by_rule = ~Q(sensitivity=Sensitivity.STANDARD)
        parts = [self.standard]
        if self.restricted is not None:
            parts.append(self.restricted)
            not_open_by_rule &= ~self.restricted
        return [*parts, not_open_by_rule & self.mine]


def visibility(actor: Membership, *, now: datetime | None = None) -> Visibility:
    user_id = actor.user_id
    # IN (sub-select), not EXISTS: inside an OR, PostgreSQL plans a correlated EXISTS as a per-row
    # alternative whose estimated cost (millions for a large organisation) switches on JIT
    # compilation, which then costs more than the query. IN gives one hashed sub-plan.
    named = CaseAccessGrant.objects.filter(user_id=user_id).values("case_id")
    glass = BreakGlassGrant.objects.filter(
        user_id=user_id, expires_at__gt=now or timezone.now()
    ).values("case_id")
    restricted: Q | None = None
    if actor.has_perm(Perm.VIEW_RESTRICTED):
        restricted = Q(sensitivity=Sensitivity.RESTRICTED)
    elif actor.team:
        restricted = Q(sensitivity=Sensitivity.RESTRICTED, team=actor.team)
    return Visibility(
        standard=Q(sensitivity=Sensitivity.STANDARD),
        restricted=restricted,
        mine=Q(owner_id=user_id) | Q(pk__in=named) | Q(pk__in=glass),
    )


def visible_cases(*, actor: Membership, now: datetime | None = None) -> QuerySet[Case]:
    if not actor.has_perm(Perm.VIEW_CASES):
        return Case.objects.none()
    return Case.objects.filter(visibility(actor, now=now).any())


def actor_shape(actor: Membership) -> tuple[Any, ...]:
    """What the access rule's statements depend on besides the organisation and the time: the key
    under which they are compiled once (`compiled`). The role and team are read on every request,
    so a change of either is a new shape, never a stale statement."""
    return (actor.user_id, actor.role, actor.team)


def case_row(*, actor: Membership, case_id: uuid.UUID, columns: tuple[str, ...]) -> dict[str, Any]:
    """A case the actor can see, as `case_rows` reads it (the owner's e-mail only), or 404."""
    if not actor.has_perm(Perm.VIEW_CASES):
        raise Http404

    def build(slots: dict[str, Any]) -> QuerySet[Any]:
        visible = visible_cases(actor=actor, now=slots["now"])
        return case_rows(visible.filter(pk=slots["case"]), columns)

    slots = {"now": timezone.now(), "case": case_id}
    rows = compiled.value_rows(("case row", *actor_shape(actor), columns), Case, build, slots)
    if not rows:
        raise Http404
    return rows[0]


def case_rows(cases: QuerySet[Case], columns: tuple[str, ...]) -> QuerySet[Any]:
    """`cases` as rows of `columns`; "owner_email" is the owner's e-mail (the only owner column
    read, so no user row, password hash included, leaves the database)."""
    return cases.annotate(owner_email=F("owner__email")).values(*columns)


def get_case(*, actor: Membership, case_id: uuid.UUID | str) -> Case:
    try:
        return visible_cases(actor=actor).select_related("owner").get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def hidden_case_for_break_glass(*, actor: Membership, case_id: uuid.UUID | str) -> Case:
    """A case of the actor's organisation that they cannot see yet (for the break-glass form)."""
    if not actor.has_perm(Perm.BREAK_GLASS):
        raise Http404
    try:
        case: Case = Case.objects.get(pk=case_id)
        return case
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def find_case_by_reference(*, actor: Membership, reference: str) -> Case | None:
    return visible_cases(actor=actor).filter(reference=reference.strip()).first()


def _in_visible_case(actor: Membership, model: Any, pk: Any, case_path: str = "case") -> Any:
    cases = visible_cases(actor=actor).values("pk")
    try:
        return model.objects.select_related(case_path).get(pk=pk, **{f"{case_path}__in": cases})
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_party(*, actor: Membership, party_id: uuid.UUID | str) -> CaseParty:
    party: CaseParty = _in_visible_case(actor, CaseParty, party_id)
    return party


def get_event(*, actor: Membership, event_id: uuid.UUID | str) -> TraffickingEvent:
    event: TraffickingEvent = _in_visible_case(actor, TraffickingEvent, event_id)
    return event


def get_plan(*, actor: Membership, plan_id: uuid.UUID | str) -> SupportPlan:
    plan: SupportPlan = _in_visible_case(actor, SupportPlan, plan_id)
    return plan


def get_goal(*, actor: Membership, goal_id: uuid.UUID | str) -> SupportGoal:
    goal: SupportGoal = _in_visible_case(actor, SupportGoal, goal_id, "plan__case")
    return goal


def get_note(*, actor: Membership, note_id: uuid.UUID | str) -> CaseNote:
    note: CaseNote = _in_visible_case(actor, CaseNote, note_id)
    return note


def in_visible_cases(actor: Membership, model: Any) -> QuerySet[Any]:
    """All rows of a per-case model whose case the actor can see."""
    rows: QuerySet[Any] = model.objects.filter(case__in=visible_cases(actor=actor).values("pk"))
    return rows


def active_break_glass(*, actor: Membership) -> QuerySet[BreakGlassGrant]:
    """Break-glass grants for supervisors to review (recent first, the last 30 days)."""
    if not actor.has_perm(Perm.APPROVE_CLOSURE):
        return BreakGlassGrant.objects.none()
    since = timezone.now() - timedelta(days=30)
    return BreakGlassGrant.objects.filter(created_at__gte=since).select_related("user", "case")
