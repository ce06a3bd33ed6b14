"""Imports and exports: upload, dry run, batch commit (resumable), export. Each step is audited."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases.services.common import acting, require
from tessera.exchange import bulk
from tessera.exchange.committing import (
    batch_duplicate_warnings,
    duplicate_warnings,
    import_unit,
    store_ctdc_records,
)
from tessera.exchange.models import CtdcRecord, ImportedRecord, ImportJob, ImportStatus
from tessera.exchange.readers import FORMATS, guess_format, read_units
from tessera.exchange.safety import ExchangeFileError
from tessera.exchange.units import Problem, Unit
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.vault.keys import shred_subject

Progress = Callable[[int, int], None]
BATCH_SIZE = 200
MAX_REPORT = 10_000


class _DryRun(Exception):
    """Raised to roll a dry-run import back."""


def create_import_job(
    *, actor: Membership, data: bytes, filename: str, fmt: str | None = None
) -> ImportJob:
    require(actor, Perm.IMPORT_DATA)
    fmt = fmt or guess_format(filename, data)
    if fmt not in FORMATS:
        raise ExchangeFileError(_("Unknown format %(format)s.") % {"format": fmt})
    with acting(actor):
        job = ImportJob(
            created_by=actor.user,
            format=fmt,
            filename=filename[:255],
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
        )
        job.save()
        record(
            action="exchange.import_upload",
            object_type="ImportJob",
            object_id=str(job.pk),
            reason=f"{fmt} {filename[:150]} ({len(data)} bytes)",
        )
    return job


def find_resumable_job(*, actor: Membership, data: bytes) -> ImportJob | None:
    """An unfinished job of the same file in the organisation (to resume after a crash)."""
    digest = hashlib.sha256(data).hexdigest()
    with acting(actor):
        return (
            ImportJob.objects.filter(
                sha256=digest, status__in=[ImportStatus.VALIDATED, ImportStatus.IMPORTING]
            )
            .order_by("-created_at")
            .first()
        )


def _units(job: ImportJob) -> list[Unit]:
    with org_context(job.org):
        content = bytes(job.content)
    return read_units(content, job.format)


def _finish(job: ImportJob, status: str, problems: list[Problem], message: str = "") -> None:
    job.status = status
    job.report = [p.as_dict() for p in problems[:MAX_REPORT]]
    job.error_count = sum(p.level == "error" for p in problems)
    job.warning_count = sum(p.level == "warning" for p in problems)
    job.message = message
    job.save()


def validate_import(
    *, actor: Membership, job: ImportJob, progress: Progress | None = None
) -> ImportJob:
    """The dry run: every unit goes through the real services inside a transaction that is then
    rolled back, so the report finds everything a commit would refuse."""
    require(actor, Perm.IMPORT_DATA)
    with acting(actor):
        job.status = ImportStatus.VALIDATING
        job.save(update_fields=["status", "updated_at"])
    try:
        units = _units(job)
    except ExchangeFileError as exc:
        with acting(actor):
            _finish(job, ImportStatus.INVALID, [Problem(0, "", "", str(exc))], str(exc))
        return job
    problems: list[Problem] = []
    job.total = len([u for u in units if u.document])
    with org_context(actor.org):
        use_bulk = _uses_bulk(job, units)
        owners = bulk.member_emails(actor) if use_bulk else {}
    for start in range(0, len(units), BATCH_SIZE):
        chunk = units[start : start + BATCH_SIZE]
        ready: list[Unit] = []
        with org_context(actor.org):
            problems.extend(_check_chunk(actor, job, chunk, ready, use_bulk, owners))
        if ready:
            with org_context(actor.org):
                problems.extend(batch_duplicate_warnings(ready))
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(units)), len(units))
    status = (
        ImportStatus.INVALID
        if any(p.level == "error" for p in problems)
        else ImportStatus.VALIDATED
    )
    with acting(actor):
        job.processed = 0
        _finish(job, status, problems)
        record(
            action="exchange.import_validate",
            object_type="ImportJob",
            object_id=str(job.pk),
            reason=f"{job.total} cases; {job.error_count} errors; {job.warning_count} warnings",
        )
    return job


BULK_FORMATS = frozenset({"csv", "xlsx", "xlsform"})


def _uses_bulk(job: ImportJob, units: list[Unit]) -> bool:
    return job.format in BULK_FORMATS and bulk.qualifies(units)


def _check_chunk(
    actor: Membership,
    job: ImportJob,
    chunk: list[Unit],
    ready: list[Unit],
    use_bulk: bool,
    owners: dict[str, Any],
) -> list[Problem]:
    """Validate a chunk of units (in the organisation's context); valid bulk units go to `ready`."""
    problems: list[Problem] = []
    for unit in chunk:
        problems.extend(unit.problems)
        if not unit.document or unit.problems or job.format == "ctdc":
            continue
        if not use_bulk:
            problems.extend(_try_unit(actor, unit))
            continue
        try:
            bulk.prepare(actor, unit, owners)
            ready.append(unit)
        except HtcdsValidationError as exc:
            problems.extend(_located(unit, exc))
    return problems


def _located(unit: Unit, exc: HtcdsValidationError) -> list[Problem]:
    return [unit.problem(path, m) for path, messages in exc.errors.items() for m in messages]


def _try_unit(actor: Membership, unit: Unit) -> list[Problem]:
    problems = []
    try:
        with acting(actor):
            problems.extend(duplicate_warnings(unit))
            import_unit(actor=actor, unit=unit, job=None)
            raise _DryRun
    except _DryRun:
        pass
    except HtcdsValidationError as exc:
        problems.extend(_located(unit, exc))
    except PermissionDenied as exc:
        problems.append(unit.problem("", str(exc)))
    return problems


def commit_import(
    *,
    actor: Membership,
    job: ImportJob,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportJob:
    """Import a validated job in batches. Each batch, its records' source keys and the job's
    progress commit together: a crash loses at most the batch in flight, and a re-run resumes
    after the last committed batch, skipping any source key already imported."""
    require(actor, Perm.IMPORT_DATA)
    if job.status not in (ImportStatus.VALIDATED, ImportStatus.IMPORTING):
        raise ExchangeFileError(_("Only a validated import without errors can be committed."))
    units = [u for u in _units(job) if u.document]
    with acting(actor):
        use_bulk = _uses_bulk(job, units)
        job.status = ImportStatus.IMPORTING
        job.total = len(units)
        job.save(update_fields=["status", "total", "updated_at"])
    warnings: list[dict[str, Any]] = list(job.report)
    while job.processed < len(units):
        with acting(actor):
            job = ImportJob.objects.select_for_update().get(pk=job.pk)
            start = job.processed
            batch = units[start : start + batch_size]
            keyed = CtdcRecord if job.format == "ctdc" else ImportedRecord
            known = set(
                keyed.objects.filter(source_key__in=[u.key for u in batch]).values_list(
                    "source_key", flat=True
                )
            )
            created: list[str] = []
            if use_bulk:
                fresh = [u for u in batch if u.key not in known]
                owners = bulk.member_emails(actor)
                prepared = [bulk.prepare(actor, u, owners) for u in fresh]
                warnings.extend(
                    p.as_dict()
                    for p in batch_duplicate_warnings(fresh)
                    if p.as_dict() not in warnings
                )
                created = bulk.save_batch(actor, prepared, job)
                job.skipped += len(batch) - len(fresh)
                batch = []
            elif job.format == "ctdc":
                fresh = [u for u in batch if u.key not in known]
                store_ctdc_records(fresh, job)
                created = [u.key for u in fresh]
                job.skipped += len(batch) - len(fresh)
                batch = []
            for unit in batch:
                if unit.key in known:
                    job.skipped += 1
                    continue
                warnings.extend(
                    p.as_dict() for p in duplicate_warnings(unit) if p.as_dict() not in warnings
                )
                created.append(str(import_unit(actor=actor, unit=unit, job=job).pk))
            job.processed = min(start + batch_size, len(units))
            job.created_cases += len(created)
            job.report = warnings[:MAX_REPORT]
            job.save()
            record(
                action="exchange.import_batch",
                object_type="ImportJob",
                object_id=str(job.pk),
                reason=f"units {start + 1}-{job.processed}: {len(created)} records created",
            )
        if progress is not None:
            progress(job.processed, len(units))
    with acting(actor):
        job.status = ImportStatus.DONE
        job.finished_at = timezone.now()
        # The uploaded file holds identities that now live in the cases: destroy the job's key so
        # the copy is unreadable everywhere, backups included, and drop the ciphertext.
        job.content = None
        shred_subject(job.pk)
        job.save(update_fields=["status", "finished_at", "updated_at", "content"])
        record(
            action="exchange.import_done",
            object_type="ImportJob",
            object_id=str(job.pk),
            reason=f"{job.created_cases} cases created, {job.skipped} already imported",
        )
    return job


def run_import(
    *, actor: Membership, job: ImportJob, dry_run: bool = False, progress: Progress | None = None
) -> ImportJob:
    """Validate (unless resuming), then commit unless `dry_run` or the report has errors."""
    if job.status in (ImportStatus.PENDING, ImportStatus.FAILED):
        job = validate_import(actor=actor, job=job, progress=progress)
    if dry_run or job.status == ImportStatus.INVALID:
        return job
    return commit_import(actor=actor, job=job, progress=progress)
