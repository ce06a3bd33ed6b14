"""What happens in a case: trafficking events (hte_), support plans (spl_), notes (cco_)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.cases.models.case import Case
from tessera.tenancy.models import OrgScopedModel
from tessera.vault.fields import EncryptedTextField


class EventType(models.TextChoices):
    """HTCDS hte_Type picklist."""

    RECRUITMENT = "Recruitment", _("Recruitment")
    TRANSIT = "Transit", _("Transit")
    EXPLOITATION = "Exploitation", _("Exploitation")


class TraffickingEvent(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("Type"), max_length=16, choices=EventType.choices)
    date = models.DateField(_("Date"), null=True, blank=True)
    end_date = models.DateField(_("End date"), null=True, blank=True)
    country = models.CharField(_("Country"), max_length=2, blank=True)
    state = models.CharField(_("State"), max_length=255, blank=True)
    city = models.CharField(_("City"), max_length=255, blank=True)
    street = models.CharField(_("Street"), max_length=255, blank=True)
    postal_code = models.CharField(_("Postal code"), max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    description = models.TextField(_("Description"), blank=True)
    extensions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["date", "created_at"]
        # `GET /events` without `?case=` walks this in page order, testing each row's case.
        indexes = [models.Index(fields=["org", "created_at", "id"], name="event_org_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.date or ''}"


class SupportPlan(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="support_plans")
    type = models.CharField(_("Type"), max_length=32, blank=True)
    objectives = models.TextField(_("Objectives"), blank=True)
    action_plan = models.TextField(_("Action plan"), blank=True)
    planned_end_date = models.DateField(_("Planned end date"), null=True, blank=True)
    actual_end_date = models.DateField(_("Actual end date"), null=True, blank=True)
    extensions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.type or 'plan'} {self.pk}"


class GoalStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    ACHIEVED = "achieved", _("Achieved")
    NOT_ACHIEVED = "not_achieved", _("Not achieved")
    CANCELLED = "cancelled", _("Cancelled")


class SupportGoal(OrgScopedModel):
    """One goal of a plan and its outcome: the unit of impact measurement."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="goals")
    description = models.CharField(_("Goal"), max_length=255)
    status = models.CharField(
        _("Status"), max_length=16, choices=GoalStatus.choices, default=GoalStatus.PLANNED
    )
    outcome = models.TextField(_("Outcome"), blank=True)
    target_date = models.DateField(_("Target date"), null=True, blank=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class NoteKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")
    VISIT = "visit", _("Visit")
    SMS = "sms", _("SMS")


class CaseNote(OrgScopedModel):
    """A case comment (HTCDS cco_CaseComment) or logged activity. The text is sealed: notes name
    people and places far more often than structured fields do."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(
        _("Kind"), max_length=16, choices=NoteKind.choices, default=NoteKind.NOTE
    )
    body = EncryptedTextField(_("Case comment"), db_column="cco_case_comment")
    occurred_at = models.DateTimeField(_("When"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.occurred_at:%Y-%m-%d}"
