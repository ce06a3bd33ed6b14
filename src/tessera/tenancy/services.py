"""Create organisations and manage memberships. Each action is audited in its own transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tessera.accounts.models import User
from tessera.audit.services import record
from tessera.tenancy.context import org_context, system_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role
from tessera.vault.keys import create_org_keys


def create_organisation(*, slug: str, name: str, **fields: Any) -> Organisation:
    """Create a tenant with its own keys and audit chain."""
    org = Organisation(slug=slug, name=name, **fields)
    org.full_clean()
    with transaction.atomic():
        org.save()
        create_org_keys(org)
        with system_context():
            record(action="org.create", object_type="Organisation", object_id=org.pk)
        with org_context(org):
            record(action="org.create", object_type="Organisation", object_id=org.pk)
    return org


def add_member(*, org: Organisation, user: User, role: str, team: str = "") -> Membership:
    if role not in Role.values:
        raise ValidationError(
            {"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."}
        )
    existing = Membership.objects.filter(user=user, org=org).first()
    if existing and (existing.role, existing.team, existing.is_active) == (role, team, True):
        return existing  # nothing changes, so nothing is audited
    with org_context(org), transaction.atomic():
        membership, created = Membership.objects.update_or_create(
            user=user, org=org, defaults={"role": role, "team": team, "is_active": True}
        )
        record(
            action="membership.create" if created else "membership.update",
            object_type="Membership",
            object_id=membership.pk,
            fields=["role", "team"],
        )
    return membership


def deactivate_member(*, membership: Membership) -> None:
    with org_context(membership.org), transaction.atomic():
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        record(action="membership.deactivate", object_type="Membership", object_id=membership.pk)


def switch_org(*, user: User, org_id: int) -> Membership:
    """The membership to act through after a switch; ValidationError if the user has none there."""
    membership = (
        Membership.objects.select_related("org")
        .filter(user=user, org_id=org_id, is_active=True, org__is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationError("You are not a member of that organisation.")
    with org_context(membership.org):
        record(action="org.switch", object_type="Organisation", object_id=org_id)
    return membership
