"""Every read of case data goes through here, with the access rules applied in the query.

Sensitivity: standard cases are open to everyone with Perm.VIEW_CASES; restricted cases to their
team, their owner, named users and holders of Perm.VIEW_RESTRICTED (supervisors); highly
restricted cases to their owner and named users only. Break-glass adds one case for one hour.
Anything not visible is answered as missing (404), never as forbidden, so ids reveal nothing.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tessera.cases.models import (
    BreakGlassGrant,
    Case,
    CaseAccessGrant,
    CaseNote,
    CaseParty,
    Person,
    Sensitivity,
    SupportGoal,
    SupportPlan,
    TraffickingEvent,
)
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.vault.fields import index_for

LIST_FILTERS = (
    "status",
    "owner",
    "exploitation_type",
    "country",
    "opened_from",
    "opened_to",
    "sensitivity",
    "team",
)


def _visibility(actor: Membership) -> Q:
    user_id = actor.user_id
    named = Exists(CaseAccessGrant.objects.filter(case=OuterRef("pk"), user_id=user_id))
    glass = Exists(
        BreakGlassGrant.objects.filter(
            case=OuterRef("pk"), user_id=user_id, expires_at__gt=timezone.now()
        )
    )
    mine = Q(owner_id=user_id) | named | glass
    restricted = Q(sensitivity=Sensitivity.RESTRICTED)
    if actor.has_perm(Perm.VIEW_RESTRICTED):
        restricted_ok = restricted
    elif actor.team:
        restricted_ok = restricted & Q(team=actor.team)
    else:
        restricted_ok = Q(pk__in=[])
    return Q(sensitivity=Sensitivity.STANDARD) | restricted_ok | mine


def visible_cases(*, actor: Membership) -> QuerySet[Case]:
    if not actor.has_perm(Perm.VIEW_CASES):
        return Case.objects.none()
    return Case.objects.filter(_visibility(actor))


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


def filter_cases(*, actor: Membership, filters: dict[str, Any]) -> QuerySet[Case]:
    """The case list with allow-listed filters and search (reference, or exact blind-index search
    by phone, name or document number when the actor may search identities)."""
    cases = visible_cases(actor=actor)
    if value := filters.get("status"):
        cases = cases.filter(status=value)
    if value := filters.get("owner"):
        cases = cases.filter(owner_id=value)
    if value := filters.get("team"):
        cases = cases.filter(team=value)
    if value := filters.get("sensitivity"):
        cases = cases.filter(sensitivity=value)
    if value := filters.get("exploitation_type"):
        cases = cases.filter(exploitation_tags__contains=f"|{value}|")
    if value := filters.get("country"):
        cases = cases.filter(country_tags__contains=f"|{str(value).upper()}|")
    if isinstance(value := filters.get("opened_from"), date):
        cases = cases.filter(opened_on__gte=value)
    if isinstance(value := filters.get("opened_to"), date):
        cases = cases.filter(opened_on__lte=value)
    query = str(filters.get("q") or "").strip()
    if query:
        people = (
            search_people(actor=actor, query=query)
            if actor.has_perm(Perm.VIEW_IDENTITY)
            else Person.objects.none()
        )
        in_people = Exists(
            CaseParty.objects.filter(case=OuterRef("pk"), person__in=people.values("pk"))
        )
        cases = cases.filter(Q(reference=query) | in_people)
    return cases.select_related("owner")


def search_people(*, actor: Membership, query: str) -> QuerySet[Person]:
    """Exact search over blind indexes: full name, first or second name, phone, document number,
    or date of birth (YYYY-MM-DD). Needs Perm.VIEW_IDENTITY."""
    if not actor.has_perm(Perm.VIEW_IDENTITY) or not query.strip():
        return Person.objects.none()
    query = query.strip()
    kinds = query_kinds(query)
    condition = Q(pk__in=[])
    if "dob" in kinds:
        condition |= Q(birthdate_index=index_for("dob", date.fromisoformat(query)))
    if "name" in kinds and (name_index := index_for("name", query)):
        condition |= Q(first_name_index=name_index) | Q(second_name_index=name_index)
        parts = query.split()
        if len(parts) >= 2:
            first, second = index_for("name", parts[0]), index_for("name", " ".join(parts[1:]))
            condition |= Q(first_name_index=first, second_name_index=second)
    if "phone" in kinds and (phone_index := index_for("phone", query)):
        condition |= Q(mobile_phone_index=phone_index) | Q(home_phone_index=phone_index)
    if "document" in kinds and (document_index := index_for("document", query)):
        condition |= Q(identity_number_index=document_index)
    return visible_people(actor=actor).filter(condition)


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{6,}")


def query_kinds(query: str) -> frozenset[str]:
    """Which blind indexes a search text can match, so only those are computed and compared.

    A date (YYYY-MM-DD) is only a date of birth; text without digits only a name; digits with phone
    punctuation a phone or a document number; any other mix of letters and digits a document.
    """
    with contextlib.suppress(ValueError):
        date.fromisoformat(query)
        return frozenset({"dob"})
    has_digit = any(c.isdigit() for c in query)
    if not has_digit:
        return frozenset({"name"})
    if _PHONE_LIKE.fullmatch(query):
        return frozenset({"phone", "document"})
    return frozenset({"document"})


def visible_people(*, actor: Membership) -> QuerySet[Person]:
    """People not merged away who are in a case the actor can see, or in no case at all."""
    if not actor.has_perm(Perm.VIEW_CASES):
        return Person.objects.none()
    in_visible = Exists(
        CaseParty.objects.filter(
            person=OuterRef("pk"), case__in=visible_cases(actor=actor).values("pk")
        )
    )
    in_any = Exists(CaseParty.objects.filter(person=OuterRef("pk")))
    return Person.objects.filter(merged_into__isnull=True).filter(in_visible | ~in_any)


def get_person(*, actor: Membership, person_id: uuid.UUID | str) -> Person:
    try:
        return visible_people(actor=actor).get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def person_cases(*, actor: Membership, person: Person) -> tuple[list[CaseParty], int]:
    """The person's roles in cases the actor can see, and how many other cases hold them."""
    roles = CaseParty.objects.filter(person=person)
    visible = list(
        roles.filter(case__in=visible_cases(actor=actor).values("pk"))
        .select_related("case")
        .order_by("-case__opened_on")
    )
    return visible, roles.count() - len(visible)


def find_duplicates(
    *, actor: Membership, data: dict[str, Any], exclude: uuid.UUID | None = None
) -> QuerySet[Person]:
    """People matching a new record on name and date of birth, phone, or document number."""
    if not actor.has_perm(Perm.VIEW_IDENTITY):
        return Person.objects.none()
    condition = Q(pk__in=[])
    first = index_for("name", data.get("prs_FirstName") or "")
    second = index_for("name", data.get("prs_SecondName") or "")
    try:
        dob = index_for("dob", data.get("prs_Birthdate") or "")
    except ValueError:
        dob = ""
    if first and second:
        condition |= Q(first_name_index=first, second_name_index=second)
    if first and dob:
        condition |= Q(first_name_index=first, birthdate_index=dob)
    for name in ("prs_MobilePhone", "prs_HomePhone"):
        phone = index_for("phone", data.get(name) or "")
        if phone:
            condition |= Q(mobile_phone_index=phone) | Q(home_phone_index=phone)
    document = index_for("document", data.get("prs_IdentityNumber") or "")
    if document:
        condition |= Q(identity_number_index=document)
    people = visible_people(actor=actor).filter(condition)
    return people.exclude(pk=exclude) if exclude else people


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
