"""Retention of uploaded files: an import that will not finish keeps no copy of its file.

A finished import destroys its job's key itself (`services.commit_import`). A job that failed, kept
errors, was only dry-run, or was abandoned mid-way would otherwise keep its sealed copy of the
uploaded file (and the rows staged from it) for ever. `purge_stale_uploads` destroys them once the
job has not changed for TESSERA_IMPORT_UPLOAD_RETENTION_HOURS, by shredding the job's key, so
backups made before the purge cannot be read either.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.exchange import staging
from tessera.exchange.models import ImportJob, ImportStatus
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Organisation
from tessera.vault.keys import shred_subject

PURGE_ACTION = "exchange.upload_purged"


@dataclass(frozen=True)
class PurgeReport:
    """Jobs purged per organisation slug (on a dry run: jobs that a purge would reach now)."""

    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def retention() -> timedelta:
    return timedelta(hours=settings.TESSERA_IMPORT_UPLOAD_RETENTION_HOURS)


def _stale(cutoff: datetime) -> Q:
    """Jobs still holding their upload that have not changed since `cutoff`. A running job's
    `updated_at` moves with every committed batch, so one that stays this old is abandoned."""
    return Q(purged_at__isnull=True, updated_at__lt=cutoff) & ~Q(status=ImportStatus.DONE)


def purge_stale_uploads(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Destroy the uploaded file of every import, in every organisation, that has not changed for
    the retention period and did not finish. Idempotent: a purged job is never purged again.

    Each organisation is worked on in its own context, and each job in its own transaction with
    its audit event, in that organisation's chain.
    """
    now = now or timezone.now()
    cutoff = now - retention()
    counts: dict[str, int] = {}
    for org in Organisation.objects.order_by("pk"):
        with org_context(org):
            job_ids = list(
                ImportJob.objects.filter(_stale(cutoff))
                .order_by("created_at")
                .values_list("pk", flat=True)
            )
        purged = len(job_ids) if dry_run else sum(_purge(org, pk, cutoff, now) for pk in job_ids)
        if purged:
            counts[org.slug] = purged
    return PurgeReport(counts=counts, dry_run=dry_run)


def _purge(org: Organisation, job_id: uuid.UUID, cutoff: datetime, now: datetime) -> bool:
    with org_context(org):
        # Locked and checked again: a commit may have started since the job was listed.
        job = (
            ImportJob.objects.select_for_update()
            .defer("content")
            .filter(_stale(cutoff), pk=job_id)
            .first()
        )
        if job is None:
            return False
        previous = job.status
        job.content = None
        job.purged_at = now
        fields = ["content", "purged_at", "updated_at"]
        if job.is_running:
            job.status = ImportStatus.FAILED
            job.message = _("Abandoned: no progress for %(hours)d hours.") % {
                "hours": settings.TESSERA_IMPORT_UPLOAD_RETENTION_HOURS
            }
            fields += ["status", "message"]
        staging.discard(job)
        shred_subject(job.pk)
        job.save(update_fields=fields)
        record(
            action=PURGE_ACTION,
            object_type="ImportJob",
            object_id=str(job.pk),
            reason=(
                f"{previous} import unchanged for over "
                f"{settings.TESSERA_IMPORT_UPLOAD_RETENTION_HOURS} hours"
            ),
        )
    return True
