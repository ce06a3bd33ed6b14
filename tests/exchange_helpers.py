"""Helpers for the exchange tests: a member of two organisations, running imports, reading exports."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from tessera.accounts.services import create_user
from tessera.audit.context import Actor, acting_as
from tessera.exchange.exports import export_htcds
from tessera.exchange.models import ImportJob
from tessera.exchange.services import create_import_job, run_import
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role
from tessera.tenancy.services import add_member, create_organisation

OFFICER = "officer@network.test"


def officer_in(*orgs: Organisation) -> list[Membership]:
    """One data officer (supervisor) who is a member of every given organisation."""
    from tessera.accounts.models import User

    user = User.objects.filter(email=OFFICER).first() or create_user(
        email=OFFICER, password="officer-password-123456"
    )
    out = []
    for org in orgs:
        add_member(org=org, user=user, role=Role.SUPERVISOR)
        out.append(Membership.objects.select_related("org", "user").get(user=user, org=org))
    return out


def fresh_org(slug: str) -> Organisation:
    return create_organisation(slug=slug, name=slug.title(), shipping_country="GB")


def do_import(
    actor: Membership, data: bytes, name: str, fmt: str | None = None, dry_run: bool = False
) -> ImportJob:
    with acting_as(Actor(actor.user_id, actor.user.email)):
        job = create_import_job(actor=actor, data=data, filename=name, fmt=fmt)
        return run_import(actor=actor, job=job, dry_run=dry_run)


def do_export(actor: Membership, fmt: str, identifying: bool = True) -> bytes:
    with acting_as(Actor(actor.user_id, actor.user.email)):
        return export_htcds(actor=actor, fmt=fmt, identifying=identifying, purpose="migration")


def xlsx_cells(data: bytes) -> list[list[Any]]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def comparable(data: bytes, fmt: str) -> Any:
    """An export's content without what differs between servers (ids, timestamps of recording)."""
    import json

    if fmt == "xlsx":
        return xlsx_cells(data)
    if fmt == "csv":
        return data.decode()
    documents = json.loads(data)
    for document in documents:
        for value in document.values():
            entries = value if isinstance(value, list) else [value]
            for entry in entries:
                if isinstance(entry, dict):
                    for drop in ("id", "person_id", "recorded_at", "occurred_at"):
                        entry.pop(drop, None)
    return documents
