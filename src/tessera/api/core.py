"""Foundation operations: who am I, the current organisation, members, audit events, own tokens."""

from datetime import datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Schema
from ninja.pagination import paginate
from ninja.responses import Status

from tessera.accounts.models import ApiToken
from tessera.accounts.tokens import revoke_token
from tessera.api.base import BoundedPagination, OrgRouter, RowId
from tessera.audit.models import AuditEvent
from tessera.tenancy.http import OrgRequest
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import ROLE_PERMISSIONS, Perm, Role

router = OrgRouter()


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    org: str
    role: str
    permissions: list[str]


class MemberOut(Schema):
    id: int
    email: str
    role: str
    team: str
    is_active: bool


class AuditEventOut(Schema):
    id: int
    seq: int
    at: datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    fields: list[str]
    reason: str
    hash: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@router.get_op("/me", perm=None, response=MeOut, tags=["account"])
def me(request: OrgRequest) -> MeOut:
    membership = request.membership
    return MeOut(
        id=request.user.pk,
        email=request.user.email,
        display_name=request.user.display_name,
        org=membership.org.slug,
        role=membership.role,
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[Role(membership.role)]),
    )


@router.get_op(
    "/members", perm=Perm.MANAGE_MEMBERS, response=list[MemberOut], tags=["organisation"]
)
@paginate(BoundedPagination)
def list_members(request: OrgRequest) -> list[MemberOut]:
    rows = Membership.objects.select_related("user").filter(org=request.org).order_by("user__email")
    return [
        MemberOut(id=m.pk, email=m.user.email, role=m.role, team=m.team, is_active=m.is_active)
        for m in rows
    ]


@router.get_op("/audit/events", perm=Perm.VIEW_AUDIT, response=list[AuditEventOut], tags=["audit"])
@paginate(BoundedPagination)
def list_audit_events(request: HttpRequest) -> object:
    return AuditEvent.objects.order_by("-seq")


@router.get_op(
    "/audit/events/{event_id}", perm=Perm.VIEW_AUDIT, response=AuditEventOut, tags=["audit"]
)
def get_audit_event(request: HttpRequest, event_id: RowId) -> AuditEvent:
    event: AuditEvent = get_object_or_404(AuditEvent.objects.all(), pk=event_id)
    return event


@router.get_op("/tokens", perm=None, response=list[TokenOut], tags=["account"])
def list_tokens(request: OrgRequest) -> object:
    return ApiToken.objects.filter(user=request.user, org=request.org)


@router.delete_op("/tokens/{token_id}", perm=None, response={204: None}, tags=["account"])
def delete_token(request: OrgRequest, token_id: RowId) -> Status[None]:
    token = get_object_or_404(
        ApiToken,
        pk=token_id,
        user=request.user,
        org=request.org,
        revoked_at__isnull=True,
    )
    revoke_token(token=token)
    return Status(204, None)
