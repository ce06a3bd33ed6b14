"""/api/v1/releases: prepare (analysts), approve or reject (a second, authorised person), download."""

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Schema
from ninja.pagination import paginate
from ninja.responses import Status

from tessera.api.base import BoundedPagination, OrgRouter
from tessera.releases import services
from tessera.releases.models import Release
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.roles import Perm

router = OrgRouter(tags=["releases"])


class ReleaseIn(Schema):
    kind: str
    parameters: dict[str, Any] = {}


class DecisionIn(Schema):
    note: str = ""


class ReleaseOut(Schema):
    id: uuid.UUID
    kind: str
    status: str
    parameters: dict[str, Any]
    epsilon: float | None
    row_count: int
    source_rows: int
    report: dict[str, Any]
    prepared_by: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_prepared_by(release: Release) -> str:
        return release.prepared_by.email

    @staticmethod
    def resolve_decided_by(release: Release) -> str | None:
        return release.decided_by.email if release.decided_by else None


def _release(release_id: uuid.UUID) -> Release:
    found: Release = get_object_or_404(
        Release.objects.select_related("prepared_by", "decided_by"), pk=release_id
    )
    return found


@router.get_op("/releases", perm=Perm.VIEW_AGGREGATES, response=list[ReleaseOut])
@paginate(BoundedPagination)
def list_releases(request: OrgRequest) -> Any:
    return Release.objects.select_related("prepared_by", "decided_by").defer("output_csv")


@router.post_op("/releases", perm=Perm.VIEW_AGGREGATES, response={201: ReleaseOut})
def create_release(request: OrgRequest, payload: ReleaseIn) -> Status[Release]:
    release = services.prepare_release(
        actor=request.membership, kind=payload.kind, parameters=payload.parameters
    )
    return Status(201, _release(release.pk))


@router.get_op("/releases/{release_id}", perm=Perm.VIEW_AGGREGATES, response=ReleaseOut)
def get_release(request: OrgRequest, release_id: uuid.UUID) -> Release:
    return _release(release_id)


@router.post_op("/releases/{release_id}/approve", perm=Perm.APPROVE_RELEASE, response=ReleaseOut)
def approve_release(request: OrgRequest, release_id: uuid.UUID, payload: DecisionIn) -> Release:
    services.approve_release(
        actor=request.membership, release=_release(release_id), note=payload.note
    )
    return _release(release_id)


@router.post_op("/releases/{release_id}/reject", perm=Perm.APPROVE_RELEASE, response=ReleaseOut)
def reject_release(request: OrgRequest, release_id: uuid.UUID, payload: DecisionIn) -> Release:
    services.reject_release(
        actor=request.membership, release=_release(release_id), note=payload.note
    )
    return _release(release_id)


@router.get_op("/releases/{release_id}/download", perm=Perm.VIEW_AGGREGATES)
def download_release(request: OrgRequest, release_id: uuid.UUID) -> HttpResponse:
    content = services.download_release(actor=request.membership, release=_release(release_id))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="release-{release_id}.csv"'
    return response
