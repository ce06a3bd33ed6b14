"""Consent records. Append-only: a withdrawal is a new record, so the history stays evidence."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.cases.models import Case, Person
from tessera.tenancy.models import OrgScopedModel


class Purpose(models.TextChoices):
    CARE = "care", _("Care and support")
    REFERRAL = "referral", _("Referral to partners")
    STATISTICS = "statistics", _("Anonymous statistics")
    RESEARCH = "research", _("Research")
    CONTACT = "contact", _("Contacting the person")


class Consent(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("Purpose"), max_length=16, choices=Purpose.choices)
    # HTCDS con_Consent: True when given, False when refused or withdrawn.
    is_given = models.BooleanField(_("Consent given"))
    evidence = models.TextField(_("Evidence"), blank=True)
    recorded_at = models.DateTimeField(_("Recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(OrgScopedModel.Meta):
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(
                fields=["person", "purpose", "-recorded_at"], name="consent_person_purpose"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {'given' if self.is_given else 'withdrawn'}"
