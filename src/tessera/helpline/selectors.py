"""Reads of helpline data, each taking the acting member and applying the case access rules.

A contact linked to a case is visible only to those who can see that case (cases.selectors);
contacts linked to no case are visible to everyone who handles contacts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tessera.cases.models import Case, CaseParty, Person
from tessera.cases.models.case import OPEN_STATUSES
from tessera.cases.selectors import compiled, search_people, visible_cases, visible_people
from tessera.cases.selectors.access import actor_shape
from tessera.helpline.models import (
    URGENT_LEVELS,
    Contact,
    ContactPerson,
    KnowledgeArticle,
    Notification,
    Task,
    TaskStatus,
    TriageStatus,
)
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.vault.blind import blind_index
from tessera.vault.normalise import normalise_phone

LOOKUP_LIMIT = 20
PEOPLE_TO_LINK = 10
# What a lookup shows of each earlier contact (no sealed field: nothing is decrypted on this path).
LOOKUP_FIELDS = (
    "org_id",
    "channel",
    "direction",
    "caller_type",
    "language",
    "started_at",
    "ended_at",
    "answered_at",
    "occurred",
    "outcome",
    "urgency",
    "is_exploitation",
    "is_anonymous",
    "safety_flags",
    "triage_status",
    "source",
    "team",
    "handled_by_id",
    "caller_phone_index",
    "case",
)


def visible_contacts(*, actor: Membership) -> QuerySet[Contact]:
    in_visible_case = Q(case__in=visible_cases(actor=actor).values("pk"))
    if actor.has_perm(Perm.HANDLE_CONTACTS):
        return Contact.objects.filter(Q(case__isnull=True) | in_visible_case)
    if actor.has_perm(Perm.VIEW_CASES):
        return Contact.objects.filter(in_visible_case)
    return Contact.objects.none()


def get_contact(*, actor: Membership, contact_id: uuid.UUID | str) -> Contact:
    try:
        return visible_contacts(actor=actor).select_related("case", "handled_by").get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def triage_queue(*, actor: Membership) -> QuerySet[Contact]:
    """Contacts waiting for an advisor: emergencies first, then the longest waiting."""
    return (
        visible_contacts(actor=actor)
        .filter(triage_status=TriageStatus.NEW)
        .order_by("-urgency", "started_at")
    )


def urgent_wait_limit() -> timedelta:
    return timedelta(minutes=settings.TESSERA_HELPLINE_URGENT_WAIT_MINUTES)


def waiting_alerts(*, actor: Membership, now: datetime | None = None) -> QuerySet[Contact]:
    """Urgent contacts nobody has taken for longer than the configured time. Computed on every
    read, so an alert appears and clears exactly when the data says so, with no worker running."""
    if not actor.has_perm(Perm.HANDLE_CONTACTS):
        return Contact.objects.none()
    cutoff = (now or timezone.now()) - urgent_wait_limit()
    return (
        visible_contacts(actor=actor)
        .filter(urgency__in=URGENT_LEVELS, answered_at__isnull=True, started_at__lte=cutoff)
        .exclude(triage_status=TriageStatus.DONE)
        .order_by("started_at")
    )


@dataclass
class CallerLookup:
    phone: str
    contacts: list[Contact] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    safety_flags: list[str] = field(default_factory=list)
    hidden_contacts: int = 0


def lookup_caller(*, actor: Membership, phone: str) -> CallerLookup | None:
    """Earlier contacts from this number, their open cases and the open cases of people with this
    number, and the safety flags recorded on them; None when the number cannot be parsed.

    Only rows of the current organisation are reachable (org-scoped managers, row-level security,
    and an index key that differs per organisation); of those, only what `actor` may see.
    """
    e164 = normalise_phone(phone, actor.org.shipping_country or None)
    if not e164:
        return None
    result = CallerLookup(phone=e164)
    if not actor.has_perm(Perm.HANDLE_CONTACTS):
        return result
    index = blind_index("phone", e164)
    # The telephony system waits on this: few queries, and the access rules only when a case is
    # named. First the contacts, by the (org, phone index, started_at) index. Its statement and
    # the party check's are compiled once per organisation and sent with each number (`compiled`).
    slots = {"index": index}
    # Forty rows are read (to list twenty visible ones) but only the listed become instances.
    candidates = compiled.fetched_rows(("lookup contacts",), Contact, _lookup_contacts, slots)
    candidate_cases = candidates.column("case_id")
    # Then the cases named: those of these contacts and those in which a person with this number
    # takes part. The access rules are applied to these few cases only, not joined to every case.
    contact_cases = sorted({case_id for case_id in candidate_cases if case_id})
    if contact_cases:
        seen = _visible_named(actor, index, contact_cases, with_party_cases=True)
    else:
        # Most callers' contacts name no case: a cheap query says whether anyone else does,
        # and the access rules (the costliest query to build) are usually skipped.
        party_cases = compiled.value_rows(("lookup party cases",), CaseParty, _party_cases, slots)
        party_case_ids = sorted({row["case_id"] for row in party_cases})
        seen = _visible_named(actor, index, party_case_ids, with_party_cases=False)
    listed: list[int] = []
    for position, case_id in enumerate(candidate_cases):
        if case_id is not None and case_id not in seen:
            result.hidden_contacts += 1
        elif len(listed) < LOOKUP_LIMIT:
            listed.append(position)
    result.contacts = candidates.instances(listed)
    for contact in result.contacts:
        if contact.case_id is not None:
            contact.case = seen[contact.case_id]  # its reference is shown: no query per contact
    result.cases = sorted(
        (case for case in seen.values() if case.status in OPEN_STATUSES),
        key=lambda case: case.reference,
    )
    result.safety_flags = sorted({f for c in result.contacts for f in c.safety_flags})
    return result


def _visible_named(
    actor: Membership, index: str, case_ids: list[uuid.UUID], *, with_party_cases: bool
) -> dict[uuid.UUID, Case]:
    """Of the cases named (and, with `with_party_cases`, those of people with the number), the
    ones `actor` may see. Kept per actor and number of cases named; the ids are passed anew."""
    if not case_ids and not with_party_cases:
        return {}
    slots: dict[str, Any] = {f"case {i}": pk for i, pk in enumerate(case_ids)}
    slots["now"] = timezone.now()
    if with_party_cases:
        slots["index"] = index

    def build(values: dict[str, Any]) -> QuerySet[Case]:
        visible = visible_cases(actor=actor, now=values["now"])
        visible = visible.only("reference", "status").order_by()
        named = visible.filter(pk__in=[values[f"case {i}"] for i in range(len(case_ids))])
        if not with_party_cases:
            return named
        # Two arms, not `pk IN (…) OR pk IN (subquery)`: PostgreSQL cannot look such an OR up by
        # primary key and reads every case of the organisation (1.4 ms at 5,000 cases, growing).
        return named.union(visible.filter(pk__in=_party_cases(values)), all=True)

    key = ("lookup cases", *actor_shape(actor), len(case_ids), with_party_cases)
    return {case.pk: case for case in compiled.model_rows(key, Case, build, slots)}


def _lookup_contacts(slots: dict[str, Any]) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(caller_phone_index=slots["index"])
        .only(*LOOKUP_FIELDS)
        .order_by("-started_at")[: LOOKUP_LIMIT * 2]
    )


def _party_cases(slots: dict[str, Any]) -> QuerySet[Any]:
    """The cases in which a person with the number takes part (as values rows of case_id)."""
    index = slots["index"]
    people = Person.objects.filter(
        Q(mobile_phone_index=index) | Q(home_phone_index=index), merged_into__isnull=True
    ).values("pk")[:LOOKUP_LIMIT]
    return CaseParty.objects.filter(person__in=people).values("case_id")[:LOOKUP_LIMIT]


def linked_people(*, actor: Membership, contact: Contact) -> tuple[list[ContactPerson], int]:
    """The contact's people that `actor` may see (with their roles), and how many others it names:
    a person linked from a case the actor cannot see is counted, never named."""
    links = ContactPerson.objects.filter(contact=contact)
    shown = list(
        links.filter(person__in=visible_people(actor=actor).values("pk"))
        .select_related("person")
        .order_by("pk")
    )
    return shown, links.count() - len(shown)


def people_to_link(*, actor: Membership, contact: Contact, query: str) -> list[Person]:
    """People matching `query` exactly (name, phone, document number, date of birth: the blind
    indexes) whom `actor` may see and who are not linked to the contact yet."""
    already = ContactPerson.objects.filter(contact=contact).values("person_id")
    found = search_people(actor=actor, query=query[:200]).exclude(pk__in=already)
    return list(found.order_by("pk")[:PEOPLE_TO_LINK])


def visible_tasks(*, actor: Membership) -> QuerySet[Task]:
    if not actor.has_perm(Perm.HANDLE_CONTACTS):
        return Task.objects.none()
    cases = visible_cases(actor=actor).values("pk")
    contacts = visible_contacts(actor=actor).values("pk")
    return Task.objects.filter(
        (Q(case__isnull=True) | Q(case__in=cases))
        & (Q(contact__isnull=True) | Q(contact__in=contacts))
    ).select_related("assignee", "contact", "case")


def get_task(*, actor: Membership, task_id: uuid.UUID | str) -> Task:
    try:
        return visible_tasks(actor=actor).get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def open_tasks(*, actor: Membership, scope: str = "mine") -> QuerySet[Task]:
    """'mine': assigned to the actor; 'team': unassigned in the actor's team queue; 'all'."""
    tasks = visible_tasks(actor=actor).filter(status=TaskStatus.OPEN)
    if scope == "mine":
        tasks = tasks.filter(assignee=actor.user)
    elif scope == "team":
        tasks = tasks.filter(assignee__isnull=True, team=actor.team)
    return tasks.order_by("due_at", "created_at")


def notifications(*, actor: Membership) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=actor.user).order_by("-created_at")


def unread_count(*, actor: Membership) -> int:
    return notifications(actor=actor).filter(read_at__isnull=True).count()


def articles(*, actor: Membership, language: str = "") -> QuerySet[KnowledgeArticle]:
    if not actor.has_perm(Perm.HANDLE_CONTACTS) and not actor.has_perm(Perm.APPROVE_CLOSURE):
        return KnowledgeArticle.objects.none()
    rows = KnowledgeArticle.objects.all()
    if not actor.has_perm(Perm.APPROVE_CLOSURE):
        rows = rows.filter(is_published=True)
    return rows.filter(language=language) if language else rows


def get_article(*, actor: Membership, article_id: int | str) -> KnowledgeArticle:
    try:
        return articles(actor=actor).get(pk=article_id)
    except (KnowledgeArticle.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def search_knowledge(
    *, actor: Membership, query: str, language: str = ""
) -> list[KnowledgeArticle]:
    from tessera.helpline.fulltext import search_articles

    if not actor.has_perm(Perm.HANDLE_CONTACTS):
        return []
    found = search_articles(query)
    if language:
        found = found.filter(language=language)
    return list(found[:20])
