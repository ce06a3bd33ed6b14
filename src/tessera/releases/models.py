"""Privacy-preserving releases of an organisation's case statistics, and the ε they spend."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.models import OrgScopedModel


class ReleaseKind(models.TextChoices):
    K_ANONYMOUS = "kanon", _("k-anonymous table")
    DP_STATISTICS = "dp_stats", _("Differentially private statistics")
    SYNTHETIC = "synthetic", _("Differentially private synthetic data")


class ReleaseStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class PrivacyBudget(OrgScopedModel):
    """The ε an organisation allows on one dataset, and what releases have spent of it."""

    dataset = models.CharField(max_length=64, default="cases")
    epsilon_total = models.FloatField(default=10.0)
    epsilon_spent = models.FloatField(default=0.0)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["org", "dataset"], name="one_budget_per_dataset"),
            models.CheckConstraint(
                condition=models.Q(epsilon_spent__lte=models.F("epsilon_total") + 1e-9),
                name="budget_never_overspent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset}: ε {self.epsilon_spent:g} of {self.epsilon_total:g}"


class Release(OrgScopedModel):
    """A prepared release: nobody can download it until a second authorised person approves it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("Kind"), max_length=16, choices=ReleaseKind.choices)
    status = models.CharField(
        _("Status"), max_length=16, choices=ReleaseStatus.choices, default=ReleaseStatus.PENDING
    )
    parameters = models.JSONField(default=dict)
    epsilon = models.FloatField(_("ε spent"), null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    source_rows = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)
    output_csv = models.TextField(blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"
