"""A person's role in one case, with the HTCDS victim (vic_) and perpetrator (per_) context."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tessera.cases.models.case import Case
from tessera.cases.models.person import Person
from tessera.tenancy.models import OrgScopedModel


class PartyRole(models.TextChoices):
    POTENTIAL_VICTIM = "PotentialVictim", _("Potential victim")
    VICTIM = "Victim", _("Victim")
    PERPETRATOR = "Perpetrator", _("Perpetrator")
    WITNESS = "Witness", _("Witness")
    OTHER = "Other", _("Other")


VICTIM_ROLES = frozenset({PartyRole.POTENTIAL_VICTIM, PartyRole.VICTIM})


class CaseParty(OrgScopedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(_("Role"), max_length=20, choices=PartyRole.choices)

    agreement_to_manage_personal_data = models.BooleanField(null=True, blank=True)
    trafficking_status = models.CharField(_("Trafficking status"), max_length=40, blank=True)
    trafficking_status_decision_making_org = models.CharField(max_length=40, blank=True)
    relationship_to_trafficker = models.CharField(max_length=20, blank=True)
    age_when_trafficked = models.PositiveSmallIntegerField(null=True, blank=True)
    recruitment_websites_and_apps = models.JSONField(default=list, blank=True)
    method_of_recruitment = models.JSONField(default=list, blank=True)
    location_of_recruitment = models.CharField(max_length=200, blank=True)
    methods_of_control = models.JSONField(default=list, blank=True)
    type_of_exploitation = models.JSONField(default=list, blank=True)
    forced_labour_industry = models.CharField(max_length=64, blank=True)
    type_of_sex_exploitation = models.JSONField(default=list, blank=True)
    location_of_exploitation = models.CharField(max_length=200, blank=True)
    exploitation_websites_and_apps = models.JSONField(default=list, blank=True)
    vulnerabilities = models.JSONField(default=list, blank=True)
    details_of_vulnerabilities = models.TextField(blank=True)
    role_in_process = models.JSONField(default=list, blank=True)
    role_details = models.TextField(blank=True)

    extensions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(OrgScopedModel.Meta):
        verbose_name = _("case party")
        verbose_name_plural = _("case parties")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "person"], name="one_role_per_person_in_case")
        ]
        # `GET /parties` without `?case=` walks this in page order, testing each row's case.
        indexes = [models.Index(fields=["org", "created_at", "id"], name="party_org_created")]

    def __str__(self) -> str:
        return f"{self.role} in {self.case_id}"
