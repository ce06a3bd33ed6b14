"""The case (HTCDS cas_): status lifecycle, owner, team and sensitivity."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.tenancy.models import OrgScopedModel


class CaseStatus(models.TextChoices):
    """HTCDS cas_Status picklist."""

    ACTIVE = "Active", _("Active")
    FOLLOW_UP = "FollowUp", _("Follow Up")
    CLOSED = "Closed", _("Closed")
    CLOSED_REFERRED = "ClosedReferred", _("Closed Referred")


OPEN_STATUSES = frozenset({CaseStatus.ACTIVE, CaseStatus.FOLLOW_UP})


class Sensitivity(models.TextChoices):
    STANDARD = "standard", _("Standard")
    RESTRICTED = "restricted", _("Restricted (team and supervisors)")
    HIGHLY_RESTRICTED = "highly_restricted", _("Highly restricted (named users)")


_LIST_PREFIX_OPENED = ("org", "-opened_on", "-created_at")
_LIST_COLUMNS = ("sensitivity", "team", "owner", "id", "exploitation_tags", "country_tags")


class Case(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("Case reference"), max_length=32)
    status = models.CharField(
        _("Status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.ACTIVE
    )
    reason_for_case_closure = models.TextField(_("Reason for case closure"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Case owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.CharField(_("Team"), max_length=100, blank=True)
    sensitivity = models.CharField(
        _("Sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.STANDARD
    )
    opened_on = models.DateField(_("Opened on"))
    closed_on = models.DateField(_("Closed on"), null=True, blank=True)
    # Closure needs a supervisor: the request waits here until approved or rejected.
    closure_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    requested_status = models.CharField(max_length=16, choices=CaseStatus.choices, blank=True)

    referring_organisation = models.CharField(
        _("Referring organisation"), max_length=200, blank=True
    )
    incoming_referral_date = models.DateField(_("Incoming referral date"), null=True, blank=True)
    referring_primary_case_worker = models.CharField(
        _("Referring primary case worker"), max_length=200, blank=True
    )
    reason_for_incoming_referral = models.CharField(
        _("Reason for incoming referral"), max_length=40, blank=True
    )
    incoming_referral_details = models.TextField(_("Incoming referral details"), blank=True)

    # Denormalised from parties and events as "|A|B|" so that list filters need no join; services
    # keep them in step (SQLite has no array type, and a join per filter would multiply rows).
    exploitation_tags = models.CharField(max_length=400, blank=True, default="")
    country_tags = models.CharField(max_length=200, blank=True, default="")
    extensions = models.JSONField(_("Extension fields"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["org", "reference"], name="case_reference_unique_in_org"
            )
        ]
        indexes = [
            # Pages: each holds every column the list filters and the access rule read, so the
            # ids of a page come from the index alone, in order (selectors.CaseListing.page).
            models.Index(
                fields=[*_LIST_PREFIX_OPENED, *_LIST_COLUMNS, "status"],
                name="case_org_opened_cover",
            ),
            models.Index(
                fields=["org", "status", *_LIST_PREFIX_OPENED[1:], *_LIST_COLUMNS],
                name="case_org_status_cover",
            ),
            models.Index(fields=["org", "owner", "-opened_on"], name="case_org_owner_opened"),
            # Counts: one small range per part of the access rule (selectors.CaseListing.count).
            models.Index(
                fields=["org", "status"],
                condition=models.Q(sensitivity="standard"),
                name="case_standard_status",
            ),
            models.Index(
                fields=["org", "status", "sensitivity", "team", *_LIST_COLUMNS[2:], "opened_on"],
                condition=~models.Q(sensitivity="standard"),
                name="case_restricted_access",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_pending_closure(self) -> bool:
        return self.closure_requested_at is not None


class CaseSequence(OrgScopedModel):
    """The last case number given out in an organisation (row-locked while numbering)."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta(OrgScopedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["org"], name="one_case_sequence_per_org")]

    def __str__(self) -> str:
        return f"case sequence {self.last_number}"
