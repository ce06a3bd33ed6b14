"""Roles and the permissions each grants. Permissions are checked per organisation membership."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    CASEWORKER = "caseworker", _("Caseworker")
    HELPLINE_ADVISOR = "helpline_advisor", _("Helpline advisor")
    ANALYST = "analyst", _("Analyst")
    AUDITOR = "auditor", _("Auditor")


class Perm(StrEnum):
    VIEW_DASHBOARD = "dashboard.view"
    VIEW_CASES = "cases.view"
    EDIT_CASES = "cases.edit"
    VIEW_IDENTITY = "identity.view"
    VIEW_RESTRICTED = "cases.view_restricted"
    ASSIGN_CASES = "cases.assign"
    MANAGE_EXTENSIONS = "cases.manage_extensions"
    APPROVE_CLOSURE = "cases.approve_closure"
    BREAK_GLASS = "cases.break_glass"
    HANDLE_CONTACTS = "helpline.handle"
    VIEW_AGGREGATES = "insights.view"
    VIEW_AUDIT = "audit.view"
    MANAGE_MEMBERS = "org.manage_members"
    MANAGE_ORG = "org.manage"
    EXPORT_IDENTIFYING = "exchange.export_identifying"
    IMPORT_DATA = "exchange.import"
    APPROVE_RELEASE = "insights.approve_release"


_CASEWORK = {
    Perm.VIEW_DASHBOARD,
    Perm.VIEW_CASES,
    Perm.EDIT_CASES,
    Perm.VIEW_IDENTITY,
    Perm.BREAK_GLASS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ORG_ADMIN: frozenset(Perm),
    Role.SUPERVISOR: frozenset(
        _CASEWORK
        | {Perm.APPROVE_CLOSURE, Perm.HANDLE_CONTACTS, Perm.VIEW_AGGREGATES, Perm.VIEW_AUDIT}
        | {Perm.APPROVE_RELEASE}
        | {Perm.VIEW_RESTRICTED, Perm.ASSIGN_CASES}
        | {Perm.IMPORT_DATA, Perm.EXPORT_IDENTIFYING}
    ),
    Role.CASEWORKER: frozenset(_CASEWORK),
    Role.HELPLINE_ADVISOR: frozenset(_CASEWORK | {Perm.HANDLE_CONTACTS}),
    # Analysts see aggregates only: never identities, never individual case files.
    Role.ANALYST: frozenset({Perm.VIEW_DASHBOARD, Perm.VIEW_AGGREGATES}),
    Role.AUDITOR: frozenset({Perm.VIEW_DASHBOARD, Perm.VIEW_AUDIT}),
}

# Every staff role works with case data or its audit trail, so every one must use MFA.
STAFF_ROLES = frozenset(Role)


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(Role(role), frozenset())
