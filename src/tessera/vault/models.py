"""Wrapped keys: one data key and one blind-index key per organisation; one key per data subject."""

from __future__ import annotations

from django.db import models

from tessera.tenancy.models import OrgScopedModel


class OrgKey(OrgScopedModel):
    """The organisation's keys, each wrapped (AES-GCM) by the master key named by master_key_id."""

    wrapped_data_key = models.BinaryField()
    wrapped_index_key = models.BinaryField()
    master_key_id = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True)

    class Meta(OrgScopedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["org"], name="one_key_set_per_org")]

    def __str__(self) -> str:
        return f"keys of org {self.org_id}"


class SubjectKey(OrgScopedModel):
    """A data subject's own key, wrapped by the organisation's data key. Deleting it shreds every
    value sealed under it, in the live database and in every backup."""

    subject_id = models.UUIDField()
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta(OrgScopedModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["org", "subject_id"], name="one_key_per_subject")
        ]

    def __str__(self) -> str:
        return f"subject key {self.subject_id}"
