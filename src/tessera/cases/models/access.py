"""Who may open a restricted case beyond its team: named users and time-limited break-glass."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.cases.models.case import Case
from tessera.tenancy.models import OrgScopedModel


class CaseAccessGrant(OrgScopedModel):
    """A named user of a highly restricted case (the owner is always one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="access_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_access_grant_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.case_id}"


class BreakGlassGrant(OrgScopedModel):
    """Emergency access to a case the user could not otherwise see; expires, and is shown to
    supervisors."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(_("Reason"))
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta(OrgScopedModel.Meta):
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "expires_at"], name="break_glass_user_expiry")]

    def __str__(self) -> str:
        return f"break-glass {self.user_id} on {self.case_id}"
