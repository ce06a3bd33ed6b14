"""Retention of uploaded files: an import that did not finish loses its sealed copy of the file
once unchanged for TESSERA_IMPORT_UPLOAD_RETENTION_HOURS; one that finished is left alone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from tessera.audit.models import AuditEvent
from tessera.audit.verify import verify_all
from tessera.cases.models import Case
from tessera.cli import main
from tessera.exchange import services, tasks
from tessera.exchange.models import ImportJob, ImportStatus, StagedBatch
from tessera.exchange.retention import PURGE_ACTION, purge_stale_uploads
from tessera.exchange.safety import ExchangeFileError
from tessera.settings import env
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role
from tessera.vault.keys import SubjectErasedError, clear_key_caches, subject_key
from tessera.vault.models import SubjectKey

from .conftest import World
from .exchange_helpers import do_import

CSV = b"case_ref,prs_FirstName,prs_Gender\r\n1,Ana,Feminine\r\n2,Bea,Masculine\r\n"
HOURS = settings.TESSERA_IMPORT_UPLOAD_RETENTION_HOURS
RUNNING = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.IMPORTING)


def _supervisor(world: World, org: Organisation) -> Membership:
    user = world.user(org, Role.SUPERVISOR)
    return Membership.objects.select_related("org", "user").get(user=user, org=org)


def _job(actor: Membership, status: str, data: bytes = CSV) -> ImportJob:
    """A job left in `status`: dry runs for the statuses they reach, the others set directly (no
    code path leaves a job half-way on purpose)."""
    if status == ImportStatus.INVALID:
        data = data.replace(b"Masculine", b"Purple")
    job = do_import(actor, data, "people.csv", dry_run=True)
    assert job.status == (
        ImportStatus.INVALID if status == ImportStatus.INVALID else ImportStatus.VALIDATED
    )
    if job.status != status:
        with org_context(actor.org):
            ImportJob.objects.filter(pk=job.pk).update(status=status)
    return _stored(actor.org, job)


def _stored(org: Organisation, job: ImportJob) -> ImportJob:
    with org_context(org):
        return ImportJob.objects.get(pk=job.pk)


def _after(hours: float) -> datetime:
    return timezone.now() + timedelta(hours=hours)


def _holds_upload(org: Organisation, job: ImportJob) -> bool:
    clear_key_caches()
    stored = _stored(org, job)
    with org_context(org):
        return (
            bytes(stored.content).startswith(b"case_ref,")
            and SubjectKey.objects.filter(subject_id=job.pk).exists()
        )


@pytest.mark.parametrize(
    "status",
    [
        ImportStatus.FAILED,
        ImportStatus.INVALID,
        ImportStatus.VALIDATED,
        ImportStatus.PENDING,
        ImportStatus.VALIDATING,
        ImportStatus.IMPORTING,
    ],
)
def test_an_unfinished_job_is_purged_after_the_retention_time_and_not_before(
    world: World, status: str
) -> None:
    job = _job(_supervisor(world, world.a), status)
    early = purge_stale_uploads(now=_after(HOURS - 1))
    assert early.counts == {}
    assert _stored(world.a, job).purged_at is None
    assert _holds_upload(world.a, job)

    late = purge_stale_uploads(now=_after(HOURS + 1))
    assert late.counts == {"alpha": 1} and late.total == 1
    stored = _stored(world.a, job)
    assert stored.purged_at is not None and stored.is_upload_purged
    assert stored.__dict__["content"] is None
    # An abandoned job stops looking as if it ran (the page would poll it for ever).
    assert stored.status == (ImportStatus.FAILED if status in RUNNING else status)
    if status in RUNNING:
        assert "Abandoned" in stored.message


def test_a_finished_job_and_a_recently_changed_job_are_left_alone(world: World) -> None:
    actor = _supervisor(world, world.a)
    done = do_import(actor, CSV, "done.csv")
    assert done.status == ImportStatus.DONE
    recent = _job(actor, ImportStatus.VALIDATED, CSV.replace(b"Ana", b"Eve"))
    now = _after(HOURS + 1)
    with org_context(world.a):
        ImportJob.objects.filter(pk=recent.pk).update(updated_at=now - timedelta(hours=HOURS - 1))
    assert purge_stale_uploads(now=now).counts == {}
    assert _stored(world.a, done).purged_at is None
    assert _stored(world.a, recent).purged_at is None
    with org_context(world.a):
        assert SubjectKey.objects.filter(subject_id=recent.pk).exists()
        assert not AuditEvent.objects.filter(action=PURGE_ACTION).exists()


def test_the_purge_shreds_the_jobs_key_and_discards_its_staged_batches(world: World) -> None:
    job = _job(_supervisor(world, world.a), ImportStatus.VALIDATED)
    with org_context(world.a):
        assert StagedBatch.objects.filter(job=job).exists()
        sealed = bytes(ImportJob.objects.get(pk=job.pk).__dict__["content"])
    assert b"Ana" not in sealed
    purge_stale_uploads(now=_after(HOURS + 1))
    clear_key_caches()
    with org_context(world.a):
        assert not StagedBatch.objects.filter(job=job).exists()
        assert not SubjectKey.objects.filter(subject_id=job.pk).exists()
        # Any copy of the sealed bytes (a backup, say) can no longer be opened.
        with pytest.raises(SubjectErasedError):
            subject_key(job.pk, create=False)


def test_each_purge_is_audited_in_its_own_organisations_chain(world: World) -> None:
    alpha_job = _job(_supervisor(world, world.a), ImportStatus.FAILED)
    beta_job = _job(_supervisor(world, world.b), ImportStatus.INVALID)
    report = purge_stale_uploads(now=_after(HOURS + 1))
    assert report.counts == {"alpha": 1, "beta": 1}
    for org, job in ((world.a, alpha_job), (world.b, beta_job)):
        with org_context(org):
            events = list(AuditEvent.objects.filter(action=PURGE_ACTION))
            assert [e.object_id for e in events] == [str(job.pk)]
            assert events[0].org_id == org.pk and events[0].actor_label == "system"
            assert not SubjectKey.objects.filter(subject_id=job.pk).exists()
    assert all(chain.ok for chain in verify_all())


def test_purging_twice_purges_nothing_the_second_time(world: World) -> None:
    job = _job(_supervisor(world, world.a), ImportStatus.VALIDATED)
    now = _after(HOURS + 1)
    assert purge_stale_uploads(now=now).total == 1
    purged_at = _stored(world.a, job).purged_at
    again = purge_stale_uploads(now=now + timedelta(hours=HOURS * 2))
    assert again.counts == {}
    assert _stored(world.a, job).purged_at == purged_at
    with org_context(world.a):
        assert AuditEvent.objects.filter(action=PURGE_ACTION).count() == 1


def test_a_purged_job_cannot_be_committed_and_nothing_changes(world: World) -> None:
    actor = _supervisor(world, world.a)
    job = _job(actor, ImportStatus.VALIDATED)
    purge_stale_uploads(now=_after(HOURS + 1))
    with org_context(world.a):
        events_before = AuditEvent.objects.count()
    stored = _stored(world.a, job)
    with pytest.raises(ExchangeFileError, match="destroyed after the retention period"):
        services.commit_import(actor=actor, job=stored)
    with pytest.raises(ExchangeFileError, match="destroyed after the retention period"):
        services.run_import(actor=actor, job=stored)
    after = _stored(world.a, job)
    assert after.status == ImportStatus.VALIDATED and after.processed == 0
    with org_context(world.a):
        assert Case.objects.count() == 0
        assert AuditEvent.objects.count() == events_before


def test_a_purged_abandoned_job_cannot_be_validated_again(world: World) -> None:
    actor = _supervisor(world, world.a)
    job = _job(actor, ImportStatus.PENDING)
    purge_stale_uploads(now=_after(HOURS + 1))
    stored = _stored(world.a, job)
    assert stored.status == ImportStatus.FAILED
    with pytest.raises(ExchangeFileError, match="destroyed"):
        services.validate_import(actor=actor, job=stored)
    assert _stored(world.a, job).status == ImportStatus.FAILED


def test_a_purged_job_is_not_resumed_when_the_same_file_is_imported_again(world: World) -> None:
    actor = _supervisor(world, world.a)
    job = _job(actor, ImportStatus.IMPORTING)
    assert services.find_resumable_job(actor=actor, data=CSV) == job
    purge_stale_uploads(now=_after(HOURS + 1))
    assert services.find_resumable_job(actor=actor, data=CSV) is None


def test_the_api_names_the_purge_and_refuses_the_commit(world: World) -> None:
    job = _job(_supervisor(world, world.a), ImportStatus.VALIDATED)
    client = world.client_for(world.a, Role.SUPERVISOR)
    assert client.get(f"/api/v1/imports/{job.pk}").json()["upload_purged_at"] is None
    purge_stale_uploads(now=_after(HOURS + 1))
    polled = client.get(f"/api/v1/imports/{job.pk}").json()
    purged_at = _stored(world.a, job).purged_at
    assert purged_at is not None and polled["upload_purged_at"] == purged_at.isoformat()
    refused = client.post(f"/api/v1/imports/{job.pk}/commit")
    assert refused.status_code == 409
    assert "destroyed after the retention period" in refused.json()["detail"]
    with org_context(world.a):
        assert Case.objects.count() == 0


def test_the_import_page_says_the_file_was_destroyed_and_offers_no_commit(world: World) -> None:
    job = _job(_supervisor(world, world.a), ImportStatus.VALIDATED)
    client = world.client_for(world.a, Role.SUPERVISOR)
    detail = reverse("exchange:import_detail", args=[job.pk])
    commit = reverse("exchange:import_commit", args=[job.pk])
    assert commit in client.get(detail).content.decode()
    purge_stale_uploads(now=_after(HOURS + 1))
    page = client.get(detail).content.decode()
    assert "The uploaded file was destroyed" in page and commit not in page
    assert "file destroyed" in client.get(reverse("exchange:import_list")).content.decode()
    client.post(commit)
    assert _stored(world.a, job).status == ImportStatus.VALIDATED
    with org_context(world.a):
        assert Case.objects.count() == 0


def _age(org: Organisation, job: ImportJob, hours: float) -> None:
    with org_context(org):
        ImportJob.objects.filter(pk=job.pk).update(updated_at=_after(-hours))


def test_the_cli_dry_run_changes_nothing_and_prints_counts(world: World) -> None:
    alpha = [_job(_supervisor(world, world.a), s) for s in (ImportStatus.FAILED,) * 2]
    beta = _job(_supervisor(world, world.b), ImportStatus.VALIDATED)
    fresh = _job(_supervisor(world, world.b), ImportStatus.INVALID)
    for org, job in ((world.a, alpha[0]), (world.a, alpha[1]), (world.b, beta)):
        _age(org, job, HOURS + 1)
    runner = CliRunner()
    dry = runner.invoke(main, ["exchange", "purge-uploads", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "alpha: would purge 2 upload(s)" in dry.output
    assert "beta: would purge 1 upload(s)" in dry.output
    assert "Would purge 3 upload(s) in 2 organisation(s)" in dry.output
    assert "people.csv" not in dry.output
    for org, job in ((world.a, alpha[0]), (world.b, beta)):
        assert _stored(org, job).purged_at is None
        with org_context(org):
            assert SubjectKey.objects.filter(subject_id=job.pk).exists()
            assert not AuditEvent.objects.filter(action=PURGE_ACTION).exists()

    done = runner.invoke(main, ["exchange", "purge-uploads"])
    assert done.exit_code == 0, done.output
    assert "alpha: purged 2 upload(s)" in done.output
    assert "Purged 3 upload(s) in 2 organisation(s)" in done.output
    assert _stored(world.b, beta).purged_at is not None
    assert _stored(world.b, fresh).purged_at is None
    again = runner.invoke(main, ["exchange", "purge-uploads"])
    assert "Purged 0 upload(s) in 0 organisation(s)" in again.output


def test_the_background_task_purges_and_returns_the_counts(world: World) -> None:
    job = _job(_supervisor(world, world.b), ImportStatus.VALIDATED)
    _age(world.b, job, HOURS + 1)
    result = tasks.purge_stale_uploads_task.enqueue()
    assert result.return_value == {"beta": 1}
    assert _stored(world.b, job).is_upload_purged


def test_the_retention_setting_must_be_at_least_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_IMPORT_UPLOAD_RETENTION_HOURS", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env.env_int("TESSERA_IMPORT_UPLOAD_RETENTION_HOURS", 72, minimum=1)
    monkeypatch.setenv("TESSERA_IMPORT_UPLOAD_RETENTION_HOURS", "24")
    assert env.env_int("TESSERA_IMPORT_UPLOAD_RETENTION_HOURS", 72, minimum=1) == 24
