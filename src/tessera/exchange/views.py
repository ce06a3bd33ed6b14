"""Import and export pages. Views parse and render only; services and tasks do the work."""

from __future__ import annotations

import uuid

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from tessera.exchange import selectors, services, tasks
from tessera.exchange.exports import CONTENT_TYPES, export_htcds
from tessera.exchange.models import ImportStatus
from tessera.exchange.report import report_csv
from tessera.exchange.safety import ExchangeFileError
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm
from tessera.tenancy.views import requires_perm

FORMAT_CHOICES = [
    ("", _("Guess from the file")),
    ("csv", "HTCDS CSV"),
    ("xlsx", "HTCDS Excel"),
    ("json", "HTCDS JSON"),
]


@requires_perm(Perm.IMPORT_DATA)
@require_http_methods(["GET", "POST"])
def import_list(request: OrgRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to import.")
        else:
            try:
                job = services.create_import_job(
                    actor=request.membership,
                    data=upload.read(),
                    filename=upload.name or "upload",
                    fmt=request.POST.get("format") or None,
                )
            except ExchangeFileError as exc:
                error = str(exc)
            else:
                tasks.validate_import_task.enqueue(request.membership.pk, str(job.pk), False)
                return redirect("exchange:import_detail", job_id=job.pk)
    jobs = selectors.import_jobs(actor=request.membership)[:50]
    return render(
        request,
        "exchange/imports.html",
        {"jobs": jobs, "formats": FORMAT_CHOICES, "error": error},
        status=400 if error else 200,
    )


@requires_perm(Perm.IMPORT_DATA)
def import_detail(request: OrgRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_job(actor=request.membership, job_id=job_id)
    template = "exchange/_progress.html" if request.headers.get("HX-Request") else None
    return render(
        request,
        template or "exchange/import_detail.html",
        {"job": job, "report": job.report[:200], "statuses": ImportStatus},
    )


@requires_perm(Perm.IMPORT_DATA)
@require_POST
def import_commit(request: OrgRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_job(actor=request.membership, job_id=job_id)
    if services.commit_refusal(job) is None:
        tasks.commit_import_task.enqueue(request.membership.pk, str(job.pk))
    return redirect("exchange:import_detail", job_id=job.pk)


@requires_perm(Perm.IMPORT_DATA)
def import_report(request: OrgRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_job(actor=request.membership, job_id=job_id)
    response = HttpResponse(report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


@requires_perm(Perm.VIEW_CASES)
@require_http_methods(["GET", "POST"])
def export(request: OrgRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        fmt = request.POST.get("format", "csv")
        identifying = request.POST.get("identifying") == "on"
        try:
            if fmt not in CONTENT_TYPES:
                raise ValueError(_("Choose JSON, CSV or Excel."))
            data = export_htcds(
                actor=request.membership,
                fmt=fmt,
                identifying=identifying,
                purpose=request.POST.get("purpose", ""),
            )
        except (PermissionDenied, ValueError) as exc:
            error = str(exc) or _("Your role does not allow this export.")
        else:
            response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
            response["Content-Disposition"] = f'attachment; filename="htcds-cases.{fmt}"'
            return response
    can_identify = request.membership.has_perm(Perm.EXPORT_IDENTIFYING)
    return render(
        request,
        "exchange/export.html",
        {"error": error, "can_identify": can_identify},
        status=400 if error else 200,
    )
