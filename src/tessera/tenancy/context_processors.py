from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tessera.tenancy.roles import ROLE_PERMISSIONS, Role


def current_org(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    org_perms: frozenset[str] = frozenset()
    if membership is not None and membership.is_active:
        org_perms = frozenset(p.value for p in ROLE_PERMISSIONS.get(Role(membership.role), ()))
    return {
        # The current member's permission values, for showing only the links they may follow.
        "org_perms": org_perms,
        "current_org": getattr(request, "org", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }
