"""Tamper-evident audit events: one hash chain per organisation, plus a system chain."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from tessera.tenancy.context import in_system_context, require_org
from tessera.tenancy.models import Organisation

GENESIS_HASH = "0" * 64


class AuditScopedManager(models.Manager[Any]):
    """Events of the current organisation's chain, or of the system chain in system_context()."""

    is_org_scoped = True

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = super().get_queryset()
        if in_system_context():
            return queryset.filter(org__isnull=True)
        return queryset.filter(org_id=require_org().pk)


class AuditEvent(models.Model):
    """One audited action. Rows are append-only: the application role cannot update or delete them.

    The actor is a snapshot (id and label) rather than a foreign key, so that deleting a user never
    rewrites history.
    """

    org = models.ForeignKey(Organisation, null=True, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list)
    ip = models.GenericIPAddressField(null=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects: ClassVar[AuditScopedManager] = AuditScopedManager()
    tessera_rls: ClassVar[str] = "org_or_system"

    class Meta:
        base_manager_name = "objects"
        ordering = ["org_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["org", "seq"], name="audit_seq_unique_per_org"),
        ]
        indexes = [models.Index(fields=["org", "object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """The last event of each chain: locked while appending, so sequence numbers never race, and
    compared by verification, so that deleting the newest events is detected too."""

    org = models.OneToOneField(Organisation, null=True, on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    objects: ClassVar[AuditScopedManager] = AuditScopedManager()
    tessera_rls: ClassVar[str] = "org_or_system"

    class Meta:
        base_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["org"], name="one_chain_head_per_org", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"chain {self.org_id or 'system'} @ {self.seq}"
