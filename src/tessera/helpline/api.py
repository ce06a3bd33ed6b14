"""REST API of the helpline: /api/v1/helpline/contacts, /lookup, /tasks, /knowledge and the public
/api/v1/public/reports. Thin handlers: selectors read (with the access rules), services write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Body, Query, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from tessera.api.base import MAX_LIMIT, OrgRouter, Paging, RowId
from tessera.cases import selectors as case_selectors
from tessera.helpline import ratelimit, selectors, serializers, services
from tessera.helpline.models import Source
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.middleware import client_ip
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Perm

router = OrgRouter(tags=["helpline"])
public_router = OrgRouter(tags=["public"])
Json = dict[str, Any]
MAX_PUBLIC_BODY = 32_768


class Page(Schema):
    items: list[dict[str, Any]]
    count: int


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ContactFilters(Paging):
    triage_status: str | None = None
    channel: str | None = None
    caller_type: str | None = None
    urgency: str | None = None
    case: uuid.UUID | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None


class LookupIn(Schema):
    phone: str


class TaskIn(Schema):
    title: str
    contact_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    assignee_id: RowId | None = None
    team: str = ""
    due_at: datetime | None = None
    priority: str = "normal"
    details: str = ""


@router.get_op("/helpline/contacts", perm=Perm.HANDLE_CONTACTS, response={200: Page, **ERRORS})
def list_contacts(request: OrgRequest, filters: Query[ContactFilters]) -> Page:
    rows = selectors.visible_contacts(actor=request.membership).select_related("case")
    for name in ("triage_status", "channel", "caller_type", "urgency"):
        if value := getattr(filters, name):
            rows = rows.filter(**{name: value})
    if filters.case:
        rows = rows.filter(case_id=filters.case)
    if filters.started_from:
        rows = rows.filter(started_at__gte=filters.started_from)
    if filters.started_to:
        rows = rows.filter(started_at__lt=filters.started_to)
    window = rows.order_by("-started_at")[filters.offset : filters.offset + filters.limit]
    return Page(items=[serializers.contact_summary(c) for c in window], count=rows.count())


@router.post_op("/helpline/contacts", perm=Perm.HANDLE_CONTACTS, response={201: Json, **ERRORS})
def create_contact(request: OrgRequest, payload: Body[Json]) -> Status[Json]:
    contact = services.record_contact(actor=request.membership, data=payload)
    return Status(201, serializers.contact_detail(contact))


@router.get_op(
    "/helpline/contacts/{contact_id}", perm=Perm.HANDLE_CONTACTS, response={200: Json, **ERRORS}
)
def get_contact(request: OrgRequest, contact_id: uuid.UUID) -> Json:
    contact = selectors.get_contact(actor=request.membership, contact_id=contact_id)
    services.record_caller_read(actor=request.membership, contact=contact, purpose="api")
    return serializers.contact_detail(contact)


@router.patch_op(
    "/helpline/contacts/{contact_id}", perm=Perm.HANDLE_CONTACTS, response={200: Json, **ERRORS}
)
def update_contact(request: OrgRequest, contact_id: uuid.UUID, payload: Body[Json]) -> Json:
    contact = selectors.get_contact(actor=request.membership, contact_id=contact_id)
    contact = services.update_contact(actor=request.membership, contact=contact, data=payload)
    return serializers.contact_detail(contact)


@router.post_op(
    "/helpline/contacts/{contact_id}/case",
    perm=Perm.HANDLE_CONTACTS,
    response={200: Json, **ERRORS},
)
def link_case(request: OrgRequest, contact_id: uuid.UUID, payload: Body[Json]) -> Json:
    """Attach the contact to `case_id`, or open a new case for it when `case_id` is absent."""
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    case = None
    if payload.get("case_id"):
        case = case_selectors.get_case(actor=actor, case_id=str(payload["case_id"]))
    case = services.link_contact_to_case(actor=actor, contact=contact, case=case)
    return {"contact_id": str(contact.pk), "case_id": str(case.pk), "reference": case.reference}


@router.post_op(
    "/helpline/contacts/{contact_id}/people",
    perm=Perm.HANDLE_CONTACTS,
    response={201: Json, **ERRORS},
)
def link_person(request: OrgRequest, contact_id: uuid.UUID, payload: Body[Json]) -> Status[Json]:
    """Link a person the advisor may see (cases.selectors.get_person) to the contact:
    `{"person_id": "…", "role": "…"}`."""
    actor = request.membership
    contact = selectors.get_contact(actor=actor, contact_id=contact_id)
    if not payload.get("person_id"):
        raise HttpError(400, "Name the person in 'person_id'.")
    person = case_selectors.get_person(actor=actor, person_id=str(payload["person_id"]))
    role = str(payload.get("role") or "")
    services.link_person(actor=actor, contact=contact, person=person, role=role)
    people, _hidden = selectors.linked_people(actor=actor, contact=contact)
    return Status(
        201, serializers.contact_summary(contact) | {"people": [str(p.person_id) for p in people]}
    )


@router.post_op("/helpline/lookup", perm=Perm.HANDLE_CONTACTS, response={200: Json, **ERRORS})
def lookup(request: OrgRequest, payload: LookupIn) -> Json:
    """For telephony (Twilio, Asterisk …) before an advisor answers: the caller's earlier contacts,
    open cases and safety flags, as far as the calling token's role may see them."""
    result = selectors.lookup_caller(actor=request.membership, phone=payload.phone)
    if result is None:
        raise HttpError(
            400, "Not a phone number: send it in E.164 (+447700900123) or national form."
        )
    services.record_lookup(actor=request.membership, result=result)
    return serializers.lookup_out(result)


@router.get_op("/helpline/tasks", perm=Perm.HANDLE_CONTACTS, response={200: Page, **ERRORS})
def list_tasks(request: OrgRequest, scope: str = "mine") -> Page:
    rows = selectors.open_tasks(actor=request.membership, scope=scope)
    return Page(items=[serializers.task_out(t) for t in rows[:MAX_LIMIT]], count=rows.count())


@router.post_op("/helpline/tasks", perm=Perm.HANDLE_CONTACTS, response={201: Json, **ERRORS})
def create_task(request: OrgRequest, payload: TaskIn) -> Status[Json]:
    actor = request.membership
    contact = (
        selectors.get_contact(actor=actor, contact_id=payload.contact_id)
        if payload.contact_id
        else None
    )
    case = (
        case_selectors.get_case(actor=actor, case_id=payload.case_id) if payload.case_id else None
    )
    assignee = None
    if payload.assignee_id is not None:
        member = actor.org.memberships.filter(user_id=payload.assignee_id, is_active=True).first()
        if member is None:
            raise HttpError(400, "The assignee must be a member of this organisation.")
        assignee = member.user
    task = services.create_task(
        actor=actor,
        title=payload.title,
        contact=contact,
        case=case,
        assignee=assignee,
        team=payload.team,
        due_at=payload.due_at,
        priority=payload.priority,
        details=payload.details,
    )
    return Status(201, serializers.task_out(task))


@router.post_op(
    "/helpline/tasks/{task_id}/complete", perm=Perm.HANDLE_CONTACTS, response={200: Json, **ERRORS}
)
def complete_task(request: OrgRequest, task_id: uuid.UUID) -> Json:
    task = selectors.get_task(actor=request.membership, task_id=task_id)
    return serializers.task_out(services.complete_task(actor=request.membership, task=task))


@router.get_op("/helpline/knowledge", perm=Perm.HANDLE_CONTACTS, response={200: Page, **ERRORS})
def search_knowledge(request: OrgRequest, q: str = "", language: str = "") -> Page:
    found = selectors.search_knowledge(actor=request.membership, query=q[:200], language=language)
    return Page(items=[serializers.article_out(a) for a in found], count=len(found))


@router.get_op(
    "/helpline/knowledge/{article_id}", perm=Perm.HANDLE_CONTACTS, response={200: Json, **ERRORS}
)
def get_article(request: OrgRequest, article_id: RowId) -> Json:
    article = selectors.get_article(actor=request.membership, article_id=article_id)
    return serializers.article_out(article, with_body=True)


@public_router.post_op(
    "/public/reports",
    perm=None,
    public=True,
    response={201: Json, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut, 429: ErrorOut},
)
def public_report(request: HttpRequest, payload: Body[Json]) -> Status[Json]:
    """A report from a partner app into the named organisation's triage queue (no login)."""
    if len(request.body) > MAX_PUBLIC_BODY:
        raise HttpError(413, f"The report is larger than {MAX_PUBLIC_BODY} bytes.")
    ip = client_ip(request)
    if not ratelimit.allow_client(ip=ip):
        raise HttpError(429, "Too many reports from this client; try again later.")
    slug = payload.pop("org", None)
    if not isinstance(slug, str) or not slug:
        raise HttpError(400, "Name the receiving organisation's slug in 'org'.")
    org = Organisation.objects.filter(slug=slug, is_active=True).first()
    if org is None:
        raise Http404
    if not ratelimit.allow_org(org_slug=org.slug):
        raise HttpError(429, "This organisation is receiving too many reports; try again later.")
    if not str(payload.get("summary") or "").strip():
        raise HttpError(400, "Describe what happened in 'summary'.")
    contact = services.submit_public_report(org=org, data=payload, source=Source.PARTNER_API, ip=ip)
    return Status(201, {"id": str(contact.pk), "status": "received"})
