"""Shared pieces of the case services: errors and the audit helper (`acting` and `require` live in
tessera.tenancy.acting and are re-exported here)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from tessera.audit.services import record
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.acting import acting, require

__all__ = ["CaseRuleError", "acting", "audit", "require", "split_payload"]


class CaseRuleError(HtcdsValidationError):
    """A business rule refused the action (for example closing without a reason)."""


def audit(action: str, obj: models.Model, fields: Iterable[str] = (), reason: str = "") -> None:
    record(
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        fields=fields,
        reason=reason,
    )


def split_payload(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(HTCDS values, Tessera's own values) of an input mapping."""
    htcds = {k: v for k, v in data.items() if "_" in k and k.partition("_")[0] in _PREFIXES}
    own = {k: v for k, v in data.items() if k not in htcds}
    return htcds, own


_PREFIXES = frozenset({"org", "prs", "vic", "per", "cas", "cco", "hte", "spl", "con"})
