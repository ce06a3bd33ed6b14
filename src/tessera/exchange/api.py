"""REST API for imports and exports: /api/v1/imports, /api/v1/exports. Thin handlers over the
exchange services; imports run as background tasks and are polled."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from ninja import File, Form, Schema
from ninja.errors import HttpError
from ninja.files import UploadedFile
from ninja.responses import Status

from tessera.api.base import OrgRouter
from tessera.exchange import selectors, services, tasks
from tessera.exchange.ctdc import export_ctdc
from tessera.exchange.exports import CONTENT_TYPES, export_htcds
from tessera.exchange.models import ImportJob
from tessera.exchange.report import report_csv
from tessera.exchange.safety import ExchangeFileError
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm

router = OrgRouter(tags=["exchange"])


class ImportIn(Schema):
    format: str | None = None
    dry_run: bool = False


class ExportIn(Schema):
    format: str = "json"
    identifying: bool = False
    purpose: str = ""


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": str(job.pk),
        "filename": job.filename,
        "format": job.format,
        "status": job.status,
        "total": job.total,
        "processed": job.processed,
        "percent": job.percent,
        "created_cases": job.created_cases,
        "skipped": job.skipped,
        "error_count": job.error_count,
        "warning_count": job.warning_count,
        "report": job.report[:500],
        "message": job.message,
        # When the retention purge destroyed the uploaded file (the job can no longer be committed).
        "upload_purged_at": job.purged_at.isoformat() if job.purged_at else None,
    }


@router.post_op("/imports", perm=Perm.IMPORT_DATA, response={202: dict[str, Any]})
def create_import(
    request: OrgRequest, file: File[UploadedFile], options: Form[ImportIn]
) -> Status[dict[str, Any]]:
    """Upload a file: it is validated in the background (the dry run), and committed afterwards
    unless `dry_run` is set or the report has errors."""
    try:
        job = services.create_import_job(
            actor=request.membership,
            data=file.read(),
            filename=file.name or "upload",
            fmt=options.format,
        )
    except ExchangeFileError as exc:
        raise HttpError(400, str(exc)) from exc
    tasks.validate_import_task.enqueue(request.membership.pk, str(job.pk), not options.dry_run)
    job.refresh_from_db()
    return Status(202, job_out(job))


@router.get_op("/imports/{job_id}", perm=Perm.IMPORT_DATA, response={200: dict[str, Any]})
def get_import(request: OrgRequest, job_id: uuid.UUID) -> dict[str, Any]:
    return job_out(selectors.get_import_job(actor=request.membership, job_id=job_id))


@router.post_op("/imports/{job_id}/commit", perm=Perm.IMPORT_DATA, response={202: dict[str, Any]})
def commit_import(request: OrgRequest, job_id: uuid.UUID) -> Status[dict[str, Any]]:
    job = selectors.get_import_job(actor=request.membership, job_id=job_id)
    refusal = services.commit_refusal(job)
    if refusal is not None:
        raise HttpError(409, refusal)
    tasks.commit_import_task.enqueue(request.membership.pk, str(job.pk))
    job.refresh_from_db()
    return Status(202, job_out(job))


@router.get_op("/imports/{job_id}/report.csv", perm=Perm.IMPORT_DATA)
def import_report(request: OrgRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.get_import_job(actor=request.membership, job_id=job_id)
    response = HttpResponse(report_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


@router.post_op("/exports", perm=Perm.VIEW_CASES)
def create_export(request: OrgRequest, payload: ExportIn) -> HttpResponse:
    """Export the organisation's cases. Identifying exports need exchange.export_identifying and
    a purpose; both are audited."""
    if payload.format not in CONTENT_TYPES:
        raise HttpError(400, "format must be json, csv or xlsx.")
    data = export_htcds(
        actor=request.membership,
        fmt=payload.format,
        identifying=payload.identifying,
        purpose=payload.purpose,
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[payload.format])
    response["Content-Disposition"] = f'attachment; filename="htcds-cases.{payload.format}"'
    return response


@router.post_op("/exports/ctdc", perm=Perm.VIEW_AGGREGATES)
def create_ctdc_export(request: OrgRequest) -> HttpResponse:
    """Victims with consent to statistics, in the CTDC global-dataset layout."""
    response = HttpResponse(export_ctdc(actor=request.membership), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="ctdc.csv"'
    return response
