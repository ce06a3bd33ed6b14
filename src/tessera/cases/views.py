"""Case pages. Views parse and render only: selectors read (with the access rules), services write."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tessera.audit.models import AuditEvent
from tessera.cases import case_actions, fieldmap, selectors, services
from tessera.cases.forms import (
    display_value,
    extension_form_fields,
    form_fields,
    parse_extensions,
    parse_post,
)
from tessera.cases.models import Case, CaseStatus, ExtensionEntity, NoteKind, PartyRole, Sensitivity
from tessera.consent.models import Purpose
from tessera.htcds.catalogue import choices_for
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm

TABS = ["people", "details", "exploitation", "events", "plan", "notes", "consent", "audit"]


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


class _CasePaginator(Paginator[Case]):
    """Django's paginator over a CaseListing: the total and each page come from the listing's
    index-only paths instead of counting and slicing one big query."""

    def __init__(self, listing: selectors.CaseListing, per_page: int) -> None:
        super().__init__([], per_page)
        self.listing = listing

    @cached_property
    def count(self) -> int:
        return self.listing.count()

    def page(self, number: int | str) -> Page[Case]:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        rows = self.listing.page(start, self.per_page).select_related("owner")
        return Page(list(rows), number, self)


@requires_perm(Perm.VIEW_CASES)
def case_list(request: OrgRequest) -> HttpResponse:
    actor = request.membership
    get = request.GET
    filters: dict[str, Any] = {
        "status": get.get("status", ""),
        "owner": get.get("owner", "") if get.get("owner", "").isdigit() else "",
        "exploitation_type": get.get("exploitation_type", ""),
        "country": get.get("country", "").strip().upper()[:2],
        "opened_from": _date(get.get("opened_from")),
        "opened_to": _date(get.get("opened_to")),
        "q": get.get("q", "").strip()[:200],
    }
    listing = selectors.CaseListing(actor=actor, filters=filters)
    page = _CasePaginator(listing, 25).get_page(get.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "statuses": CaseStatus.choices,
        "exploitation_types": choices_for("vic_TypeOfExploitation"),
        "query_string": get.urlencode(),
        "can_edit": actor.has_perm(Perm.EDIT_CASES),
        "case_fields": extension_form_fields(case_actions.Definitions().of(ExtensionEntity.CASE)),
    }
    template = "cases/_case_rows.html" if request.htmx else "cases/case_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@requires_perm(Perm.EDIT_CASES)
@require_http_methods(["GET", "POST"])
def case_new(request: OrgRequest) -> HttpResponse:
    """Open a case: sensitivity, the HTCDS case details and the organisation's case fields."""
    definitions = case_actions.Definitions()
    own = definitions.of(ExtensionEntity.CASE)
    values: dict[str, Any] = {"sensitivity": Sensitivity.STANDARD}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        values = {
            **parse_post(post, case_actions.CASE_DETAIL_FIELDS),
            "sensitivity": post.get("sensitivity", Sensitivity.STANDARD),
            "extensions": parse_extensions(post, own),
        }
        try:
            case = services.open_case(actor=request.membership, data=values)
        except HtcdsValidationError as exc:
            errors = exc.errors
        else:
            messages.success(request, _("Case %(ref)s opened.") % {"ref": case.reference})
            return redirect("cases:case_detail", case_id=case.pk)
    context = {
        "values": values,
        "errors": errors,
        "sensitivities": Sensitivity.choices,
        "case_fields": form_fields(case_actions.CASE_DETAIL_FIELDS, values, errors)
        + extension_form_fields(own, values.get("extensions"), errors),
    }
    return render(request, "cases/case_new.html", context, status=400 if errors else 200)


@requires_perm(Perm.VIEW_CASES)
@require_http_methods(["GET", "POST"])
def case_detail(request: OrgRequest, case_id: uuid.UUID) -> HttpResponse:
    actor = request.membership
    case = selectors.get_case(actor=actor, case_id=case_id)
    definitions = case_actions.Definitions()
    tab = request.GET.get("tab", "people")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        if not actor.has_perm(Perm.EDIT_CASES):
            raise Http404
        outcome = case_actions.handle_action(actor, case, request.POST, definitions)
        tab, errors, values = outcome.tab, outcome.errors, outcome.values
        if not errors:
            messages.success(request, _("Saved."))
            return redirect(f"{request.path}?tab={tab}")
    tab = tab if tab in TABS else "people"
    can_see_identity = actor.has_perm(Perm.VIEW_IDENTITY)
    parties = list(case.parties.select_related("person"))
    if can_see_identity and parties and tab in ("people", "consent"):
        for party in parties:
            services.record_identity_read(actor=actor, person=party.person, purpose="case page")
    audit_events = []
    if tab == "audit" and actor.has_perm(Perm.VIEW_AUDIT):
        ids = [str(case.pk), *[str(p.pk) for p in parties]]
        audit_events = list(AuditEvent.objects.filter(object_id__in=ids).order_by("-seq")[:100])
    context = {
        "case": case,
        "tab": tab,
        "tabs": TABS,
        "parties": parties,
        "events": case.events.all(),
        "plans": case.support_plans.prefetch_related("goals"),
        "notes": case.notes.select_related("author")[:50] if tab == "notes" else [],
        "consents": case.consents.select_related("person", "recorded_by")
        if tab == "consent"
        else [],
        "audit_events": audit_events,
        "can_edit": actor.has_perm(Perm.EDIT_CASES),
        "can_see_identity": can_see_identity,
        "can_approve": actor.has_perm(Perm.APPROVE_CLOSURE),
        "errors": errors,
        **case_actions.case_forms(
            definitions,
            values if values or tab != "details" else case_actions.case_detail_values(case),
            errors,
        ),
        "case_extensions": [
            (d.label, display_value(case.extensions.get(d.name)))
            for d in definitions.of(ExtensionEntity.CASE)
        ],
        "roles": PartyRole.choices,
        "note_kinds": NoteKind.choices,
        "purposes": Purpose.choices,
        "identity_fields": fieldmap.IDENTITY_FIELDS,
    }
    return render(request, "cases/case_detail.html", context, status=400 if errors else 200)


@requires_perm(Perm.BREAK_GLASS)
@require_http_methods(["GET", "POST"])
def case_break_glass(request: OrgRequest, case_id: uuid.UUID) -> HttpResponse:
    actor = request.membership
    case = selectors.hidden_case_for_break_glass(actor=actor, case_id=case_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.break_glass(actor=actor, case=case, reason=request.POST.get("reason", ""))
        except HtcdsValidationError as exc:
            errors = exc.errors
        else:
            messages.warning(
                request, _("Break-glass access granted for one hour. Supervisors are notified.")
            )
            return redirect("cases:case_detail", case_id=case.pk)
    return render(
        request,
        "cases/break_glass.html",
        {"case_id": case.pk, "errors": errors},
        status=400 if errors else 200,
    )


@requires_perm(Perm.VIEW_IDENTITY)
def person_detail(request: OrgRequest, person_id: uuid.UUID) -> HttpResponse:
    actor = request.membership
    person = selectors.get_person(actor=actor, person_id=person_id)
    services.record_identity_read(actor=actor, person=person, purpose="person page")
    roles, hidden = selectors.person_cases(actor=actor, person=person)
    return render(
        request,
        "cases/person_detail.html",
        {"person": person, "roles": roles, "hidden_count": hidden},
    )


@requires_perm(Perm.VIEW_IDENTITY)
def person_duplicates(request: OrgRequest) -> HttpResponse:
    """HTMX: people matching what is being typed into a new-person form."""
    data = parse_post(request.GET, case_actions.PERSON_FORM_FIELDS)
    matches = list(selectors.find_duplicates(actor=request.membership, data=data)[:5])
    return render(request, "cases/_duplicates.html", {"matches": matches})
