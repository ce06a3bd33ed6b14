"""Managers that confine every query to the organisation of the current context."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import models

from tessera.tenancy.context import require_org

M = TypeVar("M", bound=models.Model)


class OrgScopedQuerySet(models.QuerySet[M]):
    """Lets a model prepare many fetched rows at once (the vault unwraps their keys in one query)."""

    def _fetch_all(self) -> None:
        fetched_now = self._result_cache is None
        super()._fetch_all()
        hook = getattr(self.model, "tessera_after_fetch", None)
        rows = self._result_cache
        if fetched_now and hook is not None and rows and isinstance(rows[0], self.model):
            hook(rows)


class OrgScopedManager(models.Manager[M]):
    """The only way to domain rows: filtered by the current organisation, failing without one."""

    is_org_scoped = True

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[tuple[type[M], int, str | None], OrgScopedQuerySet[M]] = {}

    def get_queryset(self) -> models.QuerySet[M]:
        org = require_org()
        # Building the org filter is the costly part of every query and of every insert (Django
        # inserts through the base manager), so it is built once per organisation and cloned.
        # Managers are shallow-copied from the abstract base, so the cache is keyed by model too.
        key = (self.model, org.pk, self._db)
        template = self._templates.get(key)
        if template is None:
            template = OrgScopedQuerySet(self.model, using=self._db).filter(org_id=org.pk)
            self._templates[key] = template
        return template.all()

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
