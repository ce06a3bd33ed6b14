"""How many cases an organisation has in each group the case list counts by equality, kept by
PostgreSQL itself (ADR 0006): the exact total of a list page without reading one index entry per
case."""

from __future__ import annotations

from django.db import models

from tessera.tenancy.models import OrgScopedModel


class CaseCount(OrgScopedModel):
    """A change of `n` cases in one group (status, sensitivity, team, owner; owner 0 for none).

    Written only by triggers on cases_case, as added rows that are summed when read (writers never
    wait on each other's counter row); the triggers fold an organisation's rows into one per group
    when they pile up. The case list reads these sums on PostgreSQL only; elsewhere it counts.
    """

    status = models.CharField(max_length=16)
    sensitivity = models.CharField(max_length=20)
    team = models.CharField(max_length=100)
    owner_id = models.BigIntegerField()
    n = models.IntegerField()

    class Meta(OrgScopedModel.Meta):
        indexes = [models.Index(fields=["org", "sensitivity", "status"], name="case_count_group")]

    def __str__(self) -> str:
        return f"{self.n:+d} {self.status}/{self.sensitivity}/{self.team}/{self.owner_id}"
