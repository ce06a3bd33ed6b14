"""Managers that confine every query to the organisation of the current context."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import models

from tessera.tenancy.context import require_org

M = TypeVar("M", bound=models.Model)


class OrgScopedManager(models.Manager[M]):
    """The only way to domain rows: filtered by the current organisation, failing without one."""

    is_org_scoped = True

    def get_queryset(self) -> models.QuerySet[M]:
        org = require_org()
        return super().get_queryset().filter(org_id=org.pk)

    def bulk_create(self, objs: Iterable[M], *args: Any, **kwargs: Any) -> list[M]:
        org = require_org()
        rows: Sequence[M] = list(objs)
        for row in rows:
            if getattr(row, "org_id", None) is None:
                row.org = org  # type: ignore[attr-defined]
            elif row.org_id != org.pk:  # type: ignore[attr-defined]
                from tessera.tenancy.context import CrossOrgWriteError

                raise CrossOrgWriteError("bulk_create into another organisation.")
        return super().bulk_create(rows, *args, **kwargs)
