"""`tessera import` and `tessera export`: the same services as the web interface and the API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tessera.cli import _org_by_slug, with_django


def _actor(org: Any, email: str | None) -> Any:
    """The member to act as: the given e-mail, or the organisation's first administrator."""
    from tessera.tenancy.models import Membership
    from tessera.tenancy.roles import Role

    members = Membership.objects.select_related("org", "user").filter(org=org, is_active=True)
    found = (
        members.filter(user__email__iexact=email).first()
        if email
        else members.filter(role=Role.ORG_ADMIN).order_by("created_at").first()
    )
    if found is None:
        raise click.ClickException(
            f"No active member {email!r} in {org.slug}."
            if email
            else f"{org.slug} has no administrator to act as; pass --user EMAIL."
        )
    return found


class _Bar:
    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "xlsform", "ctdc"]))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--user", "email", help="Act as this member (default: the first administrator).")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Cases per committed batch (default: 1000 for flat files, 200 for others).",
)
@click.option(
    "--report", "report_path", type=click.Path(path_type=Path), help="Write the report CSV here."
)
@with_django
def import_command(
    file: Path,
    org_slug: str,
    fmt: str | None,
    dry_run: bool,
    email: str | None,
    batch_size: int | None,
    report_path: Path | None,
) -> None:
    """Import FILE into an organisation: validate, then commit in resumable batches. Re-running
    after an interruption resumes where the last committed batch ended."""
    from tessera.audit.context import Actor, acting_as
    from tessera.exchange import services
    from tessera.exchange.models import ImportStatus
    from tessera.exchange.report import report_csv
    from tessera.exchange.safety import ExchangeFileError

    actor = _actor(_org_by_slug(org_slug), email)
    data = file.read_bytes()
    with acting_as(Actor(actor.user_id, actor.user.email)):
        try:
            job = None if dry_run else services.find_resumable_job(actor=actor, data=data)
            if job is not None:
                click.echo(
                    f"Resuming import {job.pk} after {job.processed} of {job.total}.", err=True
                )
            else:
                job = services.create_import_job(
                    actor=actor, data=data, filename=file.name, fmt=fmt
                )
            bar = _Bar("Validating")
            if job.status == ImportStatus.PENDING:
                job = services.validate_import(actor=actor, job=job, progress=bar)
            bar.close()
            if job.status in (ImportStatus.VALIDATED, ImportStatus.IMPORTING) and not dry_run:
                bar = _Bar("Importing")
                job = services.commit_import(
                    actor=actor, job=job, progress=bar, batch_size=batch_size
                )
                bar.close()
        except ExchangeFileError as exc:
            raise click.ClickException(str(exc)) from exc
    for problem in job.report[:50]:
        click.echo(
            f"{problem['level']}: row {problem['row']} {problem['column'] or '-'} "
            f"[{problem['field']}]: {problem['message']}",
            err=True,
        )
    if report_path is not None:
        report_path.write_bytes(report_csv(job))
    click.echo(
        f"{job.status}: {job.total} cases, {job.created_cases} created, {job.skipped} "
        f"already imported, {job.error_count} errors, {job.warning_count} warnings "
        f"(job {job.pk})"
    )
    if job.status == ImportStatus.INVALID:
        sys.exit(1)


@click.group("export")
def export_group() -> None:
    """Export an organisation's data in open formats."""


@export_group.command("htcds")
@click.option("--org", "org_slug", required=True)
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx"]), default="json")
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--purpose", default="", help="Why identifying data is exported (required with it).")
@click.option("--deidentified", is_flag=True, help="Leave out every identifying field.")
@click.option("--user", "email", help="Act as this member (default: the first administrator).")
@with_django
def export_htcds_command(
    org_slug: str, fmt: str, output: Path, purpose: str, deidentified: bool, email: str | None
) -> None:
    """Every case of the organisation as HTCDS JSON, flat CSV or Excel (IOM's template layout)."""
    from django.core.exceptions import PermissionDenied

    from tessera.audit.context import Actor, acting_as
    from tessera.exchange.exports import export_htcds

    actor = _actor(_org_by_slug(org_slug), email)
    if not deidentified and not purpose.strip():
        raise click.ClickException(
            "State --purpose for an export of identifying data, or pass --deidentified."
        )
    with acting_as(Actor(actor.user_id, actor.user.email)):
        try:
            data = export_htcds(actor=actor, fmt=fmt, identifying=not deidentified, purpose=purpose)
        except PermissionDenied as exc:
            raise click.ClickException(str(exc)) from exc
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({len(data)} bytes).")


@export_group.command("ctdc")
@click.option("--org", "org_slug", required=True)
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "email", help="Act as this member (default: the first administrator).")
@with_django
def export_ctdc_command(org_slug: str, output: Path, email: str | None) -> None:
    """Victims with consent to statistics, in the CTDC global-dataset layout (-99 = missing)."""
    from tessera.audit.context import Actor, acting_as
    from tessera.exchange.ctdc import export_ctdc

    actor = _actor(_org_by_slug(org_slug), email)
    with acting_as(Actor(actor.user_id, actor.user.email)):
        data = export_ctdc(actor=actor)
    output.write_bytes(data)
    victims = len(data.splitlines()) - 1
    click.echo(f"Wrote {output} ({victims} victims).")


@click.group("exchange")
def exchange_group() -> None:
    """Upkeep of imports and exports."""


@exchange_group.command("purge-uploads")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@with_django
def purge_uploads_command(dry_run: bool) -> None:
    """Destroy the uploaded files of imports that did not finish (failed, with errors, only
    dry-run, or abandoned) once unchanged for TESSERA_IMPORT_UPLOAD_RETENTION_HOURS. Run it from
    cron or a systemd timer, at least daily."""
    from django.conf import settings

    from tessera.exchange.retention import purge_stale_uploads

    report = purge_stale_uploads(dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    for slug, count in sorted(report.counts.items()):
        click.echo(f"{slug}: {verb} {count} upload(s)")
    hours = settings.TESSERA_IMPORT_UPLOAD_RETENTION_HOURS
    click.echo(
        f"{verb.capitalize()} {report.total} upload(s) in {len(report.counts)} organisation(s) "
        f"(retention {hours} hours)."
    )


def mount(main: click.Group) -> None:
    main.add_command(import_command, name="import")
    main.add_command(export_group, name="export")
    main.add_command(exchange_group, name="exchange")
