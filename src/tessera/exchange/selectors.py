"""Reads of import jobs, always within the actor's organisation."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from tessera.exchange.models import ImportJob
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def import_jobs(*, actor: Membership) -> QuerySet[ImportJob]:
    if not actor.has_perm(Perm.IMPORT_DATA):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(org=actor.org).defer("content")


def get_import_job(*, actor: Membership, job_id: uuid.UUID | str) -> ImportJob:
    """The job, or 404 (the same answer for another organisation's job and a missing one)."""
    job = import_jobs(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job
