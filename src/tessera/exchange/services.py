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
from tessera.exchange import bulk, parallel, staging
from tessera.exchange.committing import (
    duplicate_warnings,
    import_unit,
    save_batch,
    staged_duplicate_warnings,
    store_ctdc_records,
)
from tessera.exchange.duplicates import is_one_of
from tessera.exchange.extension_columns import extension_columns
from tessera.exchange.models import CtdcRecord, ImportedRecord, ImportJob, ImportStatus
from tessera.exchange.readers import FORMATS, guess_format, paused_gc, read_units
from tessera.exchange.safety import ExchangeFileError
from tessera.exchange.units import Problem, Unit
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.vault.keys import shred_subject

Progress = Callable[[int, int], None]
BATCH_SIZE = 200
# Bulk batches are larger: their cost per batch (statements, locks, audit events) is fixed, and a
# batch of 1,000 units still commits within a few seconds.
BULK_BATCH_SIZE = 1000
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
                sha256=digest,
                status__in=[ImportStatus.VALIDATED, ImportStatus.IMPORTING],
                purged_at__isnull=True,
            )
            .order_by("-created_at")
            .first()
        )


def upload_purged_message() -> str:
    return _(
        "The uploaded file of this import was destroyed after the retention period: "
        "upload the file again to import it."
    )


def commit_refusal(job: ImportJob, *, resuming: bool = False) -> str | None:
    """Why `job` cannot be committed now (None: it can). `resuming` also accepts a job whose
    commit was interrupted."""
    if job.is_upload_purged:
        return upload_purged_message()
    allowed = (
        (ImportStatus.VALIDATED, ImportStatus.IMPORTING) if resuming else (ImportStatus.VALIDATED,)
    )
    if job.status not in allowed:
        return _("Only a validated import without errors can be committed.")
    return None


def _units(job: ImportJob) -> list[Unit]:
    with org_context(job.org):
        content = bytes(job.content)
        extensions = extension_columns() if job.format in ("csv", "xlsx") else []
    return read_units(content, job.format, extensions)


def _finish(job: ImportJob, status: str, problems: list[Problem], message: str = "") -> None:
    job.status = status
    job.report = [p.as_dict() for p in problems[:MAX_REPORT]]
    job.error_count = sum(p.level == "error" for p in problems)
    job.warning_count = sum(p.level == "warning" for p in problems)
    job.message = message
    # Not the uploaded file, which has not changed: rewriting it would cost as much as the upload.
    job.save(
        update_fields=[
            "status",
            "report",
            "error_count",
            "warning_count",
            "message",
            "total",
            "processed",
            "updated_at",
        ]
    )


def validate_import(
    *, actor: Membership, job: ImportJob, progress: Progress | None = None
) -> ImportJob:
    """The dry run: every unit goes through the services' rules, and nothing is written but the
    report. Bulk units are built, sealed and staged for the commit (`staging.py`); others go
    through the real services inside a transaction that is then rolled back. Either way the
    report finds everything a commit would refuse."""
    require(actor, Perm.IMPORT_DATA)
    if job.is_upload_purged:
        raise ExchangeFileError(upload_purged_message())
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
    with acting(actor):
        staging.discard(job)
        builder = staging.UnitBuilder(actor) if _uses_bulk(job, units) else None
    chunks = [units[start : start + BATCH_SIZE] for start in range(0, len(units), BATCH_SIZE)]
    if builder is not None:
        _validate_bulk(actor, job, builder, chunks, problems, progress)
    else:
        for done, chunk in enumerate(chunks, start=1):
            with acting(actor):
                problems.extend(_check_chunk(actor, job, chunk))
            if progress is not None:
                progress(min(done * BATCH_SIZE, len(units)), len(units))
    status = (
        ImportStatus.INVALID
        if any(p.level == "error" for p in problems)
        else ImportStatus.VALIDATED
    )
    with acting(actor):
        if status == ImportStatus.INVALID:
            staging.discard(job)
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


def _validate_bulk(
    actor: Membership,
    job: ImportJob,
    builder: staging.UnitBuilder,
    chunks: list[list[Unit]],
    problems: list[Problem],
    progress: Progress | None,
) -> None:
    """Build and seal chunks of bulk units in worker processes; here, report and stage each."""
    built = parallel.in_order(
        lambda index: staging.build_chunk(builder, chunks[index]),
        len(chunks),
        parallel.worker_count(),
    )
    first = 0  # the chunk's first unit, counting units with a document
    total = sum(len(chunk) for chunk in chunks)
    refused = False  # once a unit is refused, the job cannot be committed: stop staging
    for done, (chunk, result) in enumerate(zip(chunks, built, strict=True), start=1):
        with paused_gc(), acting(actor):
            problems.extend(result.problems)
            problems.extend(staged_duplicate_warnings(result.checks))
            refused = refused or any(p.level == "error" for p in result.problems)
            if not refused:
                staging.stage(job, first, result, builder.fingerprint)
        first += sum(1 for u in chunk if u.document)
        if progress is not None:
            progress(min(done * BATCH_SIZE, total), total)


def _check_chunk(actor: Membership, job: ImportJob, chunk: list[Unit]) -> list[Problem]:
    """Problems of a chunk of units that go through the case services one by one."""
    problems: list[Problem] = []
    for unit in chunk:
        problems.extend(unit.problems)
        if not unit.document or unit.problems or job.format == "ctdc":
            continue
        problems.extend(_try_unit(actor, unit))
    return problems


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
        problems.extend(bulk.located(unit, exc))
    except PermissionDenied as exc:
        problems.append(unit.problem("", str(exc)))
    return problems


def _bulk_source(
    actor: Membership, job: ImportJob
) -> tuple[staging.StagedRows | staging.FileUnits | None, list[Unit]]:
    """Where the commit takes its units from: the dry run's staged rows while they still hold,
    else the file (built again in bulk when it qualifies, or through the services)."""
    if job.format in BULK_FORMATS:
        with acting(actor):
            builder = staging.UnitBuilder(actor)
            staged = staging.StagedRows(job, job.total, builder.fingerprint)
            if staged.usable and not bulk.has_extension_fields():
                return staged, []
    units = [u for u in _units(job) if u.document]
    with acting(actor):
        if _uses_bulk(job, units):
            return staging.FileUnits(staging.UnitBuilder(actor), units), units
    return None, units


def commit_import(
    *,
    actor: Membership,
    job: ImportJob,
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> ImportJob:
    """Import a validated job in batches. Each batch, its records' source keys and the job's
    progress commit together: a crash loses at most the batch in flight, and a re-run resumes
    after the last committed batch, skipping any source key already imported."""
    require(actor, Perm.IMPORT_DATA)
    refusal = commit_refusal(job, resuming=True)
    if refusal is not None:
        raise ExchangeFileError(refusal)
    source, units = _bulk_source(actor, job)
    total = job.total if isinstance(source, staging.StagedRows) else len(units)
    batch_size = batch_size or (BULK_BATCH_SIZE if source is not None else BATCH_SIZE)
    with acting(actor):
        job.status = ImportStatus.IMPORTING
        job.total = total
        job.updated_at = timezone.now()
        # One statement that also checks the retention purge has not destroyed the file since.
        started = ImportJob.objects.filter(pk=job.pk, purged_at__isnull=True).update(
            status=job.status, total=job.total, updated_at=job.updated_at
        )
        if not started:
            raise ExchangeFileError(upload_purged_message())
    report = _Report(job.report)
    while job.processed < total:
        with paused_gc(), acting(actor):
            # Not the uploaded file: a large one would be read and written again every batch.
            job = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
            if job.is_upload_purged:  # by the retention purge, since this commit began
                raise ExchangeFileError(upload_purged_message())
            start = job.processed
            stop = min(start + batch_size, total)
            if source is not None:
                created = _commit_bulk(actor, job, source, start, stop, report)
            else:
                created = _commit_units(actor, job, units[start:stop], report)
            job.processed = stop
            job.created_cases += len(created)
            progress_fields = ["processed", "created_cases", "skipped", "updated_at"]
            if report.grown:
                job.report = report.entries[:MAX_REPORT]
                progress_fields.append("report")
                report.grown = False
            job.save(update_fields=progress_fields)
            record(
                action="exchange.import_batch",
                object_type="ImportJob",
                object_id=str(job.pk),
                reason=f"units {start + 1}-{job.processed}: {len(created)} records created",
            )
        if progress is not None:
            progress(job.processed, total)
    with acting(actor):
        job.status = ImportStatus.DONE
        job.finished_at = timezone.now()
        # The uploaded file (and the rows staged from it) hold identities that now live in the
        # cases: destroy the job's key so every copy is unreadable, backups included.
        job.content = None
        staging.discard(job)
        shred_subject(job.pk)
        job.save(update_fields=["status", "finished_at", "updated_at", "content"])
        record(
            action="exchange.import_done",
            object_type="ImportJob",
            object_id=str(job.pk),
            reason=f"{job.created_cases} cases created, {job.skipped} already imported",
        )
    return job


class _Report:
    """The job's report entries, growing with warnings found while committing (each once)."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = list(entries)
        self._seen = {tuple(sorted(e.items())) for e in self.entries}
        self.grown = False

    def extend(self, problems: list[Problem]) -> None:
        for problem in problems:
            entry = problem.as_dict()
            key = tuple(sorted(entry.items()))
            if key not in self._seen:
                self._seen.add(key)
                self.entries.append(entry)
                self.grown = True


def _known(keyed: type[ImportedRecord | CtdcRecord], keys: list[str]) -> set[str]:
    found = keyed.objects.filter(is_one_of("source_key", keys))
    return set(found.values_list("source_key", flat=True))


def _commit_bulk(
    actor: Membership,
    job: ImportJob,
    source: staging.StagedRows | staging.FileUnits,
    start: int,
    stop: int,
    report: _Report,
) -> list[str]:
    known = _known(ImportedRecord, source.keys(start, stop))
    fresh = source.fresh(start, stop, known)
    report.extend(staged_duplicate_warnings([(u.first_row, u.matches) for u in fresh]))
    job.skipped += (stop - start) - len(fresh)
    return save_batch(actor, fresh, job)


def _commit_units(
    actor: Membership, job: ImportJob, batch: list[Unit], report: _Report
) -> list[str]:
    keyed = CtdcRecord if job.format == "ctdc" else ImportedRecord
    known = _known(keyed, [u.key for u in batch])
    fresh = [u for u in batch if u.key not in known]
    job.skipped += len(batch) - len(fresh)
    if job.format == "ctdc":
        store_ctdc_records(fresh, job)
        return [u.key for u in fresh]
    created = []
    for unit in fresh:
        report.extend(duplicate_warnings(unit))
        created.append(str(import_unit(actor=actor, unit=unit, job=job).pk))
    return created


def run_import(
    *, actor: Membership, job: ImportJob, dry_run: bool = False, progress: Progress | None = None
) -> ImportJob:
    """Validate (unless resuming), then commit unless `dry_run` or the report has errors."""
    if job.status in (ImportStatus.PENDING, ImportStatus.FAILED):
        job = validate_import(actor=actor, job=job, progress=progress)
    if dry_run or job.status == ImportStatus.INVALID:
        return job
    return commit_import(actor=actor, job=job, progress=progress)
