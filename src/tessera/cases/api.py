"""REST API for case management: /api/v1/cases, /people, /parties, /events, /support-plans,
/notes, /consents, /extension-fields and the HTCDS document endpoints. Thin handlers: selectors
read (with the access rules), services write, serializers speak HTCDS names."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Body, Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from tessera.api.base import OrgRouter, Paging, RowId
from tessera.cases import documents, selectors, serializers, services
from tessera.cases.models import CaseNote, CaseParty, ExtensionField, SupportPlan, TraffickingEvent
from tessera.consent.models import Consent
from tessera.consent.services import record_consent
from tessera.htcds.schema import case_document_schema
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm

router = OrgRouter(tags=["cases"])
Json = dict[str, Any]


# Lists of every party, event, plan or note of the organisation (no `?case=`) count at most this many
# rows past the page: an exact total tests every row's case against the access rule (0.6-1.4 s at
# 1M cases), and a client paging through them needs only to know that more follow.
COUNT_AHEAD = 1000


class Page(Schema):
    items: list[dict[str, Any]]
    count: Annotated[
        int,
        Field(
            description="How many rows match. When `count_exact` is false it is a lower bound: at "
            "least this many rows match (lists of parties, events, support plans and notes without "
            f"`case` count at most {COUNT_AHEAD} rows past the requested page)."
        ),
    ]
    count_exact: Annotated[bool, Field(description="Whether `count` is the exact total.")] = True


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


class CaseFilters(Paging):
    status: str | None = None
    owner: RowId | None = None
    team: str | None = None
    sensitivity: str | None = None
    exploitation_type: str | None = None
    country: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    q: str | None = None


class CaseScoped(Paging):
    case: uuid.UUID | None = None


class StatusIn(Schema):
    status: str


class ClosureIn(Schema):
    reason: str
    status: str = "Closed"


class ReasonIn(Schema):
    reason: str


class PartyIn(Schema):
    case_id: uuid.UUID
    role: str
    person_id: uuid.UUID | None = None
    person: dict[str, Any] | None = None
    context: dict[str, Any] = {}


class NoteIn(Schema):
    case_id: uuid.UUID
    cco_CaseComment: str
    kind: str = "note"
    occurred_at: str | None = None


class ConsentIn(Schema):
    person_id: uuid.UUID
    purpose: str
    con_Consent: bool
    evidence: str = ""
    case_id: uuid.UUID | None = None


class ExtensionFieldIn(Schema):
    entity: str
    name: str
    label: str
    type: str
    choices: list[str] = []
    is_required: bool = False


class ExtensionFieldChange(Schema):
    label: str | None = None
    add_choices: list[str] | None = None
    is_required: bool | None = None
    is_active: bool | None = None


ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _page(rows: Any, paging: Paging, render: Any, *, count_ahead: int | None = None) -> Page:
    """A page of `rows` and their total; with `count_ahead`, the total is counted no further than
    that many rows past the page (then `count_exact` is false)."""
    window = list(rows[paging.offset : paging.offset + paging.limit])
    items = [render(row) for row in window]
    if count_ahead is None:
        return Page(items=items, count=_total(len(window), paging, rows.count))
    cap = paging.offset + paging.limit + count_ahead
    total = _total(len(window), paging, lambda: rows.order_by()[: cap + 1].count())
    return Page(items=items, count=min(total, cap), count_exact=total <= cap)


def _total(rows_on_page: int, paging: Paging, count: Callable[[], int]) -> int:
    if 0 < rows_on_page < paging.limit or (not rows_on_page and paging.offset == 0):
        # A short page is the last one: the total is known without a COUNT(*) over the org.
        return paging.offset + rows_on_page
    return count()


def _case_data(payload: Json) -> Json:
    return {k: v for k, v in payload.items() if k not in documents._READ_ONLY}


@router.get_op("/cases", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_cases(request: OrgRequest, filters: Query[CaseFilters]) -> Page:
    wanted = filters.dict(exclude={"limit", "offset"}, exclude_none=True)
    listing = selectors.CaseListing(actor=request.membership, filters=wanted)
    rows = listing.page_rows(filters.offset, filters.limit, serializers.CASE_ROW_COLUMNS)
    total = _total(len(rows), filters, listing.count)
    return Page(items=[serializers.case_row_out(row) for row in rows], count=total)


@router.post_op("/cases", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_case(request: OrgRequest, payload: Body[Json]) -> Status[Json]:
    case = services.open_case(actor=request.membership, data=_case_data(payload))
    return Status(201, serializers.case_out(case))


@router.get_op("/cases/{case_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_case(request: OrgRequest, case_id: uuid.UUID) -> Json:
    row = selectors.case_row(
        actor=request.membership, case_id=case_id, columns=serializers.CASE_ROW_COLUMNS
    )
    return serializers.case_row_out(row)


@router.patch_op("/cases/{case_id}", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def update_case(request: OrgRequest, case_id: uuid.UUID, payload: Body[Json]) -> Json:
    case = selectors.get_case(actor=request.membership, case_id=case_id)
    return serializers.case_out(
        services.update_case(actor=request.membership, case=case, data=_case_data(payload))
    )


@router.post_op("/cases/{case_id}/status", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def change_case_status(request: OrgRequest, case_id: uuid.UUID, payload: StatusIn) -> Json:
    case = selectors.get_case(actor=request.membership, case_id=case_id)
    return serializers.case_out(
        services.change_status(actor=request.membership, case=case, status=payload.status)
    )


@router.post_op("/cases/{case_id}/closure", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def request_case_closure(request: OrgRequest, case_id: uuid.UUID, payload: ClosureIn) -> Json:
    case = selectors.get_case(actor=request.membership, case_id=case_id)
    case = services.request_closure(
        actor=request.membership, case=case, reason=payload.reason, status=payload.status
    )
    return serializers.case_out(case)


@router.post_op(
    "/cases/{case_id}/closure/approve", perm=Perm.APPROVE_CLOSURE, response={200: Json, **ERRORS}
)
def approve_case_closure(request: OrgRequest, case_id: uuid.UUID) -> Json:
    case = selectors.get_case(actor=request.membership, case_id=case_id)
    return serializers.case_out(services.approve_closure(actor=request.membership, case=case))


@router.post_op(
    "/cases/{case_id}/break-glass", perm=Perm.BREAK_GLASS, response={201: Json, **ERRORS}
)
def break_glass(request: OrgRequest, case_id: uuid.UUID, payload: ReasonIn) -> Status[Json]:
    case = selectors.hidden_case_for_break_glass(actor=request.membership, case_id=case_id)
    grant = services.break_glass(actor=request.membership, case=case, reason=payload.reason)
    return Status(
        201,
        {
            "id": str(grant.pk),
            "case_id": str(case.pk),
            "expires_at": grant.expires_at.isoformat(),
        },
    )


@router.get_op("/people", perm=Perm.VIEW_IDENTITY, response={200: Page, **ERRORS})
def list_people(request: OrgRequest, paging: Query[CaseScoped], q: str | None = None) -> Page:
    actor = request.membership
    rows = (
        selectors.search_people(actor=actor, query=q)
        if q
        else selectors.visible_people(actor=actor)
    )
    page = _page(
        rows.order_by("created_at"), paging, lambda p: serializers.person_out(p, with_identity=True)
    )
    return page


@router.post_op("/people", perm=Perm.VIEW_IDENTITY, response={201: Json, **ERRORS})
def create_person(request: OrgRequest, payload: Body[Json]) -> Status[Json]:
    person = services.create_person(actor=request.membership, data=_case_data(payload))
    return Status(201, serializers.person_out(person, with_identity=True))


@router.get_op("/people/{person_id}", perm=Perm.VIEW_IDENTITY, response={200: Json, **ERRORS})
def get_person(request: OrgRequest, person_id: uuid.UUID) -> Json:
    person = selectors.get_person(actor=request.membership, person_id=person_id)
    services.record_identity_read(actor=request.membership, person=person, purpose="api")
    return serializers.person_out(person, with_identity=True)


@router.patch_op("/people/{person_id}", perm=Perm.VIEW_IDENTITY, response={200: Json, **ERRORS})
def update_person(request: OrgRequest, person_id: uuid.UUID, payload: Body[Json]) -> Json:
    person = selectors.get_person(actor=request.membership, person_id=person_id)
    person = services.update_person(
        actor=request.membership, person=person, data=_case_data(payload)
    )
    return serializers.person_out(person, with_identity=True)


def _scoped(request: OrgRequest, model: Any, paging: CaseScoped) -> Any:
    rows = selectors.in_visible_cases(request.membership, model)
    if paging.case:
        rows = rows.filter(case_id=paging.case)
    return rows.order_by("created_at", "pk")


def _ahead(paging: CaseScoped) -> int | None:
    """One case's rows are counted exactly; the whole organisation's up to COUNT_AHEAD."""
    return None if paging.case else COUNT_AHEAD


@router.get_op("/parties", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_parties(request: OrgRequest, paging: Query[CaseScoped]) -> Page:
    rows = _scoped(request, CaseParty, paging)
    return _page(rows, paging, serializers.party_out, count_ahead=_ahead(paging))


@router.post_op("/parties", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_party(request: OrgRequest, payload: PartyIn) -> Status[Json]:
    actor = request.membership
    case = selectors.get_case(actor=actor, case_id=payload.case_id)
    person = (
        selectors.get_person(actor=actor, person_id=payload.person_id)
        if payload.person_id
        else None
    )
    party = services.add_party(
        actor=actor,
        case=case,
        role=payload.role,
        person=person,
        person_data=payload.person,
        context=payload.context,
    )
    return Status(201, serializers.party_out(party))


@router.get_op("/parties/{party_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_party(request: OrgRequest, party_id: uuid.UUID) -> Json:
    return serializers.party_out(selectors.get_party(actor=request.membership, party_id=party_id))


@router.patch_op("/parties/{party_id}", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def update_party(request: OrgRequest, party_id: uuid.UUID, payload: Body[Json]) -> Json:
    party = selectors.get_party(actor=request.membership, party_id=party_id)
    return serializers.party_out(
        services.update_party(actor=request.membership, party=party, data=_case_data(payload))
    )


@router.get_op("/events", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_events(request: OrgRequest, paging: Query[CaseScoped]) -> Page:
    rows = _scoped(request, TraffickingEvent, paging)
    return _page(rows, paging, serializers.event_out, count_ahead=_ahead(paging))


def _case_from(request: OrgRequest, payload: Json) -> Any:
    raw = payload.pop("case_id", None)
    if not isinstance(raw, str):
        raise HtcdsValidationError({"case_id": ["case_id is required."]})
    return selectors.get_case(actor=request.membership, case_id=raw)


@router.post_op("/events", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_event(request: OrgRequest, payload: Body[Json]) -> Status[Json]:
    case = _case_from(request, payload)
    event = services.record_event(actor=request.membership, case=case, data=_case_data(payload))
    return Status(201, serializers.event_out(event))


@router.get_op("/events/{event_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_event(request: OrgRequest, event_id: uuid.UUID) -> Json:
    return serializers.event_out(selectors.get_event(actor=request.membership, event_id=event_id))


@router.patch_op("/events/{event_id}", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def update_event(request: OrgRequest, event_id: uuid.UUID, payload: Body[Json]) -> Json:
    event = selectors.get_event(actor=request.membership, event_id=event_id)
    return serializers.event_out(
        services.update_event(actor=request.membership, event=event, data=_case_data(payload))
    )


@router.get_op("/support-plans", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_plans(request: OrgRequest, paging: Query[CaseScoped]) -> Page:
    rows = _scoped(request, SupportPlan, paging).prefetch_related("goals")
    return _page(rows, paging, serializers.plan_out, count_ahead=_ahead(paging))


@router.post_op("/support-plans", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_plan(request: OrgRequest, payload: Body[Json]) -> Status[Json]:
    case = _case_from(request, payload)
    goals = payload.pop("goals", [])
    actor = request.membership
    plan = services.create_support_plan(actor=actor, case=case, data=_case_data(payload))
    if not isinstance(goals, list):
        raise HtcdsValidationError({"goals": ["goals must be a list."]})
    for goal in goals:
        services.add_goal(actor=actor, plan=plan, data=goal if isinstance(goal, dict) else {})
    return Status(201, serializers.plan_out(plan))


@router.get_op("/support-plans/{plan_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_plan(request: OrgRequest, plan_id: uuid.UUID) -> Json:
    return serializers.plan_out(selectors.get_plan(actor=request.membership, plan_id=plan_id))


@router.patch_op("/support-plans/{plan_id}", perm=Perm.EDIT_CASES, response={200: Json, **ERRORS})
def update_plan(request: OrgRequest, plan_id: uuid.UUID, payload: Body[Json]) -> Json:
    plan = selectors.get_plan(actor=request.membership, plan_id=plan_id)
    return serializers.plan_out(
        services.update_support_plan(actor=request.membership, plan=plan, data=_case_data(payload))
    )


@router.get_op("/notes", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_notes(request: OrgRequest, paging: Query[CaseScoped]) -> Page:
    return _page(
        _scoped(request, CaseNote, paging).select_related("author"),
        paging,
        serializers.note_out,
        count_ahead=_ahead(paging),
    )


@router.post_op("/notes", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_note(request: OrgRequest, payload: NoteIn) -> Status[Json]:
    case = selectors.get_case(actor=request.membership, case_id=payload.case_id)
    note = services.add_note(
        actor=request.membership,
        case=case,
        body=payload.cco_CaseComment,
        kind=payload.kind,
        occurred_at=payload.occurred_at,
    )
    return Status(201, serializers.note_out(note))


@router.get_op("/notes/{note_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_note(request: OrgRequest, note_id: uuid.UUID) -> Json:
    return serializers.note_out(selectors.get_note(actor=request.membership, note_id=note_id))


@router.get_op("/consents", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_consents(
    request: OrgRequest, paging: Query[CaseScoped], person: uuid.UUID | None = None
) -> Page:
    people = selectors.visible_people(actor=request.membership).values("pk")
    rows = Consent.objects.filter(person__in=people).select_related("recorded_by")
    if paging.case:
        rows = rows.filter(case_id=paging.case)
    if person:
        rows = rows.filter(person_id=person)
    return _page(rows.order_by("-recorded_at", "pk"), paging, serializers.consent_out)


@router.post_op("/consents", perm=Perm.EDIT_CASES, response={201: Json, **ERRORS})
def create_consent(request: OrgRequest, payload: ConsentIn) -> Status[Json]:
    actor = request.membership
    person = selectors.get_person(actor=actor, person_id=payload.person_id)
    case = selectors.get_case(actor=actor, case_id=payload.case_id) if payload.case_id else None
    consent = record_consent(
        actor=actor,
        person=person,
        purpose=payload.purpose,
        is_given=payload.con_Consent,
        evidence=payload.evidence,
        case=case,
    )
    return Status(201, serializers.consent_out(consent))


@router.get_op("/consents/{consent_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS})
def get_consent(request: OrgRequest, consent_id: uuid.UUID) -> Json:
    people = selectors.visible_people(actor=request.membership).values("pk")
    consent = (
        Consent.objects.filter(person__in=people, pk=consent_id)
        .select_related("recorded_by")
        .first()
    )
    if consent is None:
        raise HttpError(404, "Not Found")
    return serializers.consent_out(consent)


def _extension_out(field: ExtensionField) -> Json:
    return {
        "id": str(field.pk),
        "entity": field.entity,
        "name": field.name,
        "label": field.label,
        "type": field.type,
        "choices": field.choices,
        "is_required": field.is_required,
        "is_active": field.is_active,
    }


@router.get_op("/extension-fields", perm=Perm.VIEW_CASES, response={200: Page, **ERRORS})
def list_extension_fields(request: OrgRequest, paging: Query[Paging]) -> Page:
    return _page(selectors.extension_fields(), paging, _extension_out)


@router.post_op("/extension-fields", perm=Perm.MANAGE_EXTENSIONS, response={201: Json, **ERRORS})
def create_extension_field(request: OrgRequest, payload: ExtensionFieldIn) -> Status[Json]:
    field = services.define_extension_field(actor=request.membership, **payload.dict())
    return Status(201, _extension_out(field))


@router.patch_op(
    "/extension-fields/{field_id}", perm=Perm.MANAGE_EXTENSIONS, response={200: Json, **ERRORS}
)
def update_extension_field(
    request: OrgRequest, field_id: uuid.UUID, payload: ExtensionFieldChange
) -> Json:
    """Label, more picklist values, required, in use; name, type and entity never change."""
    field = selectors.get_extension_field(actor=request.membership, field_id=field_id)
    changed = services.update_extension_field(
        actor=request.membership, field=field, **payload.dict(exclude_unset=True)
    )
    return _extension_out(changed)


@router.get_op("/htcds/schema.json", perm=None, public=True, response=Json, tags=["htcds"])
def htcds_schema(request: HttpRequest) -> Json:
    return case_document_schema()


@router.post_op(
    "/htcds/cases",
    perm=Perm.EDIT_CASES,
    response={201: Json, **ERRORS},
    tags=["htcds"],
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}}},
            "required": True,
        }
    },
)
def import_htcds_case(request: OrgRequest, document: Body[Json]) -> Status[Json]:
    case = documents.import_case_document(actor=request.membership, document=document)
    return Status(201, {"id": str(case.pk), "reference": case.reference})


@router.get_op(
    "/htcds/cases/{case_id}", perm=Perm.VIEW_CASES, response={200: Json, **ERRORS}, tags=["htcds"]
)
def export_htcds_case(request: OrgRequest, case_id: uuid.UUID) -> Json:
    case = selectors.get_case(actor=request.membership, case_id=case_id)
    return documents.export_case_document(actor=request.membership, case=case)


def install_error_handlers(api: NinjaAPI) -> None:
    """Validation errors answer 400 naming each field; refusals 403."""

    def on_invalid(request: HttpRequest, exc: HtcdsValidationError) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc), "errors": exc.errors}, status=400)

    def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)

    api.add_exception_handler(HtcdsValidationError, on_invalid)  # type: ignore[arg-type]
    api.add_exception_handler(PermissionDenied, on_denied)  # type: ignore[arg-type]
