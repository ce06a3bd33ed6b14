"""The advisor's workspace: triage queue, contacts (with the knowledge base beside the form),
linking to cases, tasks, notifications and alerts. Views parse and render; services write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from tessera.cases import selectors as case_selectors
from tessera.cases import services as case_services
from tessera.cases.services.common import CaseRuleError
from tessera.helpline import selectors, services
from tessera.helpline.models import (
    CallerType,
    Channel,
    Contact,
    Direction,
    Outcome,
    Priority,
    SafetyFlag,
    TriageStatus,
    Urgency,
)
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm

FORM_FIELDS = (
    "channel",
    "direction",
    "caller_type",
    "language",
    "urgency",
    "outcome",
    "summary",
    "location",
    "caller_name",
    "caller_phone",
    "caller_email",
    "safe_contact",
    "triage_status",
)


# Suggestions only: a person's role in a contact is free text, as in the API.
PERSON_ROLES = (
    gettext_lazy("caller"),
    gettext_lazy("potential victim"),
    gettext_lazy("suspected exploiter"),
    gettext_lazy("witness"),
    gettext_lazy("family member"),
    gettext_lazy("employer"),
)


def _form_data(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: post.get(name, "") for name in FORM_FIELDS if name in post}
    if "is_exploitation" in post:
        data["is_exploitation"] = {"yes": True, "no": False}.get(post.get("is_exploitation"))
    if "flags_present" in post:
        data["safety_flags"] = [f for f in post.getlist("safety_flags") if f]
    return data


def _choices() -> dict[str, Any]:
    return {
        "channels": Channel.choices,
        "directions": Direction.choices,
        "caller_types": CallerType.choices,
        "urgencies": Urgency.choices,
        "outcomes": Outcome.choices,
        "triage_statuses": TriageStatus.choices,
        "flags": SafetyFlag.choices,
        "priorities": Priority.choices,
    }


@requires_perm(Perm.HANDLE_CONTACTS)
def triage(request: OrgRequest) -> HttpResponse:
    actor = request.membership
    context = {
        "queue": selectors.triage_queue(actor=actor).select_related("case")[:100],
        "alerts": list(selectors.waiting_alerts(actor=actor)[:50]),
        "wait_minutes": int(selectors.urgent_wait_limit().total_seconds() // 60),
        "in_progress": selectors.visible_contacts(actor=actor)
        .filter(triage_status=TriageStatus.IN_PROGRESS, handled_by=actor.user)
        .order_by("-started_at")[:50],
        "my_tasks": selectors.open_tasks(actor=actor, scope="mine")[:20],
    }
    return render(request, "helpline/triage.html", context)


@requires_perm(Perm.HANDLE_CONTACTS)
@require_http_methods(["GET", "POST"])
def contact_new(request: OrgRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"channel": Channel.PHONE, "direction": Direction.INBOUND}
    if request.method == "POST":
        values = _form_data(request.POST)
        try:
            contact = services.record_contact(actor=request.membership, data=values)
        except CaseRuleError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Contact recorded."))
            return redirect("helpline:contact_detail", contact_id=contact.pk)
    context = {"values": values, "errors": errors, **_choices()}
    return render(request, "helpline/contact_new.html", context, status=400 if errors else 200)


@requires_perm(Perm.HANDLE_CONTACTS)
@require_http_methods(["GET", "POST"])
def contact_detail(request: OrgRequest, contact_id: str) -> HttpResponse:
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.update_contact(actor=actor, contact=contact, data=_form_data(request.POST))
        except CaseRuleError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Contact saved."))
            return redirect("helpline:contact_detail", contact_id=contact.pk)
    services.record_caller_read(actor=actor, contact=contact, purpose="view")
    lookup = None
    if contact.caller_phone:
        lookup = selectors.lookup_caller(actor=actor, phone=str(contact.caller_phone))
        if lookup is not None:
            lookup.contacts = [c for c in lookup.contacts if c.pk != contact.pk]
            services.record_lookup(actor=actor, result=lookup)
    context = {
        "contact": contact,
        "lookup": lookup,
        "errors": errors,
        **_people_context(request, contact),
        "tasks": selectors.visible_tasks(actor=actor).filter(contact=contact),
        "members": actor.org.memberships.filter(is_active=True).select_related("user"),
        "can_edit_cases": actor.has_perm(Perm.EDIT_CASES),
        **_choices(),
    }
    return render(request, "helpline/contact_detail.html", context, status=400 if errors else 200)


def _people_context(request: OrgRequest, contact: Contact) -> dict[str, Any]:
    """The contact's people and, when the advisor searched (`person_q`), whom they could link.
    Every name shown is a read of identifying data, audited like the case page's."""
    actor = request.membership
    people, hidden_people = selectors.linked_people(actor=actor, contact=contact)
    query = request.GET.get("person_q", "").strip()[:200]
    candidates = (
        selectors.people_to_link(actor=actor, contact=contact, query=query) if query else []
    )
    if actor.has_perm(Perm.VIEW_IDENTITY):
        for person in [link.person for link in people] + candidates:
            case_services.record_identity_read(actor=actor, person=person, purpose="contact page")
    return {
        "people": people,
        "hidden_people": hidden_people,
        "person_q": query,
        "candidates": candidates,
        "can_see_identity": actor.has_perm(Perm.VIEW_IDENTITY),
        "person_roles": PERSON_ROLES,
    }


@requires_perm(Perm.HANDLE_CONTACTS)
@require_http_methods(["GET", "POST"])
def contact_people(request: OrgRequest, contact_id: str) -> HttpResponse:
    """GET (HTMX): the people matching `person_q` who could be linked. POST: link `person_id`
    (someone the advisor may see, as the API's link operation requires) in a free-text role."""
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    if request.method == "GET":
        context = {"contact": contact, **_people_context(request, contact)}
        return render(request, "helpline/_person_results.html", context)
    try:
        person_id = uuid.UUID(request.POST.get("person_id", ""))
    except ValueError:
        raise Http404 from None  # no one has that id, as for anyone the advisor may not see
    person = case_selectors.get_person(actor=actor, person_id=person_id)
    try:
        services.link_person(
            actor=actor, contact=contact, person=person, role=request.POST.get("role", "")
        )
    except CaseRuleError as exc:
        messages.error(request, " ".join(m for found in exc.errors.values() for m in found))
    else:
        messages.success(request, _("Person linked to the contact."))
    return redirect(reverse("helpline:contact_detail", args=[contact.pk]) + "#people-heading")


@requires_perm(Perm.HANDLE_CONTACTS)
@require_POST
def contact_take(request: OrgRequest, contact_id: str) -> HttpResponse:
    contact = selectors.get_contact(actor=request.membership, contact_id=contact_id)
    services.take_contact(actor=request.membership, contact=contact)
    return redirect("helpline:contact_detail", contact_id=contact.pk)


@requires_perm(Perm.HANDLE_CONTACTS)
@require_POST
def contact_link_case(request: OrgRequest, contact_id: str) -> HttpResponse:
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    reference = request.POST.get("reference", "").strip()[:32]
    case = None
    if reference:
        case = case_selectors.find_case_by_reference(actor=actor, reference=reference)
        if case is None:
            messages.error(
                request, _("No case you can see has the reference %(ref)s.") % {"ref": reference}
            )
            return redirect("helpline:contact_detail", contact_id=contact.pk)
    case = services.link_contact_to_case(actor=actor, contact=contact, case=case)
    messages.success(request, _("Contact linked to case %(ref)s.") % {"ref": case.reference})
    return redirect("helpline:contact_detail", contact_id=contact.pk)


def _due(raw: str) -> datetime | None:
    parsed = parse_datetime(raw) if raw else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@requires_perm(Perm.HANDLE_CONTACTS)
@require_POST
def task_add(request: OrgRequest, contact_id: str) -> HttpResponse:
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    assignee_id = request.POST.get("assignee", "")
    member = (
        actor.org.memberships.filter(user_id=assignee_id, is_active=True).first()
        if assignee_id.isdigit()
        else None
    )
    try:
        services.create_task(
            actor=actor,
            title=request.POST.get("title", ""),
            contact=contact,
            case=contact.case,
            assignee=member.user if member else None,
            team=request.POST.get("team", "") if member is None else "",
            due_at=_due(request.POST.get("due_at", "")),
            priority=request.POST.get("priority", Priority.NORMAL),
            link=reverse("helpline:contact_detail", args=[contact.pk]),
        )
    except CaseRuleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Task added."))
    return redirect("helpline:contact_detail", contact_id=contact.pk)


@requires_perm(Perm.HANDLE_CONTACTS)
@require_POST
def task_complete(request: OrgRequest, task_id: str) -> HttpResponse:
    task = selectors.get_task(actor=request.membership, task_id=task_id)
    try:
        services.complete_task(actor=request.membership, task=task)
    except CaseRuleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Task completed."))
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("helpline:tasks")


@requires_perm(Perm.HANDLE_CONTACTS)
def tasks(request: OrgRequest) -> HttpResponse:
    actor = request.membership
    scope = request.GET.get("scope", "mine")
    scope = scope if scope in ("mine", "team", "all") else "mine"
    context = {
        "tasks": selectors.open_tasks(actor=actor, scope=scope)[:200],
        "scope": scope,
        "now": timezone.now(),
    }
    return render(request, "helpline/tasks.html", context)


@requires_perm(Perm.HANDLE_CONTACTS)
@require_http_methods(["GET", "POST"])
def notifications(request: OrgRequest) -> HttpResponse:
    actor = request.membership
    if request.method == "POST":
        services.mark_notifications_read(actor=actor)
        return redirect("helpline:notifications")
    context = {
        "notifications": selectors.notifications(actor=actor)[:100],
        "alerts": list(selectors.waiting_alerts(actor=actor)[:50]),
        "wait_minutes": int(selectors.urgent_wait_limit().total_seconds() // 60),
    }
    return render(request, "helpline/notifications.html", context)


@requires_perm(Perm.HANDLE_CONTACTS)
def alerts_badge(request: OrgRequest) -> HttpResponse:
    """The count shown in the navigation (polled by HTMX): unread notifications plus alerts."""
    actor = request.membership
    count = selectors.unread_count(actor=actor) + selectors.waiting_alerts(actor=actor).count()
    return render(request, "helpline/_badge.html", {"count": count})
