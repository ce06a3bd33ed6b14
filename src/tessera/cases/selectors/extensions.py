"""Reads of the organisation's extension field definitions."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from tessera.cases.models import ExtensionField
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def extension_fields(
    *, entity: str | None = None, active_only: bool = True
) -> QuerySet[ExtensionField]:
    """The current organisation's definitions (for forms, validation and exports)."""
    fields = ExtensionField.objects.order_by("entity", "name")
    if entity is not None:
        fields = fields.filter(entity=entity)
    return fields.filter(is_active=True) if active_only else fields


def get_extension_field(*, actor: Membership, field_id: uuid.UUID | str) -> ExtensionField:
    if not actor.has_perm(Perm.MANAGE_EXTENSIONS):
        raise Http404
    try:
        field: ExtensionField = ExtensionField.objects.get(pk=field_id)
        return field
    except (ExtensionField.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
