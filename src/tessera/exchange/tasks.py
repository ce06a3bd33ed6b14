"""Background tasks: take ids, reload through the organisation, idempotent (a re-run resumes)."""

from __future__ import annotations

from django_tasks import task

from tessera.audit.context import Actor, acting_as
from tessera.exchange.models import ImportJob, ImportStatus
from tessera.exchange.retention import purge_stale_uploads
from tessera.exchange.services import commit_import, validate_import
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership


def _load(membership_id: int, job_id: str) -> tuple[Membership, ImportJob]:
    actor = Membership.objects.select_related("org", "user").get(pk=membership_id)
    with org_context(actor.org):
        job = ImportJob.objects.get(pk=job_id)
    return actor, job


@task()
def validate_import_task(membership_id: int, job_id: str, then_commit: bool = False) -> None:
    actor, job = _load(membership_id, job_id)
    with acting_as(Actor(actor.user_id, actor.user.email)):
        job = validate_import(actor=actor, job=job)
        if then_commit and job.status == ImportStatus.VALIDATED:
            commit_import(actor=actor, job=job)


@task()
def commit_import_task(membership_id: int, job_id: str) -> None:
    actor, job = _load(membership_id, job_id)
    with acting_as(Actor(actor.user_id, actor.user.email)):
        commit_import(actor=actor, job=job)


@task()
def purge_stale_uploads_task() -> dict[str, int]:
    """The retention purge of uploaded files (exchange/retention.py); schedule it at least daily.
    Returns the jobs purged per organisation."""
    return purge_stale_uploads().counts
