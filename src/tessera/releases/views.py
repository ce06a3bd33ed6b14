"""Web pages for releases: list and prepare (analysts), approve or reject, download."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tessera.releases import services
from tessera.releases.models import PrivacyBudget, Release, ReleaseKind
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm


def _parameters(request: OrgRequest) -> dict[str, object]:
    parameters: dict[str, object] = {}
    columns = [c for c in request.POST.getlist("columns") if c]
    if columns:
        parameters["columns"] = columns
    for name, cast in (("k", int), ("epsilon", float)):
        raw = request.POST.get(name, "").strip()
        if raw:
            try:
                parameters[name] = cast(raw)
            except ValueError:
                parameters[name] = raw  # the service names the problem
    return parameters


@requires_perm(Perm.VIEW_AGGREGATES)
def release_list(request: OrgRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            services.prepare_release(
                actor=request.membership,
                kind=request.POST.get("kind", ""),
                parameters=_parameters(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Release prepared. It needs a second person's approval."))
            return redirect("releases:release_list")
    budget = PrivacyBudget.objects.filter(dataset="cases").first()
    context = {
        "releases": Release.objects.select_related("prepared_by", "decided_by").defer("output_csv"),
        "kinds": ReleaseKind.choices,
        "budget": budget,
        "columns": services.DP_COLUMNS,
        "can_approve": request.membership.has_perm(Perm.APPROVE_RELEASE),
    }
    return render(request, "releases/release_list.html", context)


@requires_perm(Perm.APPROVE_RELEASE)
@require_POST
def release_decide(request: OrgRequest, release_id: uuid.UUID) -> HttpResponse:
    release = get_object_or_404(Release, pk=release_id)
    decide = (
        services.approve_release
        if request.POST.get("decision") == "approve"
        else services.reject_release
    )
    try:
        decide(actor=request.membership, release=release, note=request.POST.get("note", "")[:1000])
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("releases:release_list")


@requires_perm(Perm.VIEW_AGGREGATES)
def release_download(request: OrgRequest, release_id: uuid.UUID) -> HttpResponse:
    release = get_object_or_404(Release, pk=release_id)
    content = services.download_release(actor=request.membership, release=release)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="release-{release.pk}.csv"'
    return response
