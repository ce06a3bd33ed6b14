"""Shared pieces of the case services: the acting member, errors, and the audit helper."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


class CaseRuleError(HtcdsValidationError):
    """A business rule refused the action (for example closing without a reason)."""


@contextmanager
def acting(actor: Membership) -> Iterator[None]:
    """One transaction in the actor's organisation: the change and its audit event commit together."""
    with org_context(actor.org), transaction.atomic():
        yield


def require(actor: Membership, perm: Perm) -> None:
    if not actor.has_perm(perm):
        raise PermissionDenied(
            _("Your role does not allow this (%(perm)s).") % {"perm": perm.value}
        )


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
