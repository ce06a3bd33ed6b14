"""Append events to the audit trail, in the caller's transaction."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from tessera.audit.append import append_in_one_statement
from tessera.audit.chain import clean_text, event_hash, fields_text, hashed_values
from tessera.audit.context import current_actor
from tessera.audit.models import AuditChainHead, AuditEvent
from tessera.tenancy.context import current_org, in_system_context
from tessera.tenancy.models import Organisation


def normalise_ip(value: str | None) -> str | None:
    """The form both databases store (Django's IPv6 cleaning), or None for a missing or bad address."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return clean_ipv6_address(value) if address.version == 6 else str(address)


def record(
    *,
    action: str,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    fields: Iterable[str] = (),
    reason: str = "",
) -> AuditEvent:
    """Append one event to the current organisation's chain (or the system chain).

    Call it inside the same transaction.atomic() as the change it records, so that the change and
    its audit event commit or roll back together. The actor and IP come from the audit context.
    """
    org: Organisation | None = current_org()
    if org is None and not in_system_context():
        raise RuntimeError("record() needs an organisation context or system_context().")
    actor = current_actor()
    names = sorted(set(fields))
    names_text = fields_text(names)  # validates the names before anything is written
    # Microsecond precision is what both databases keep; the hash must cover what is stored.
    event = AuditEvent(
        org=org,
        at=timezone.now(),
        actor_id=actor.user_id,
        actor_label=clean_text(actor.label),
        action=clean_text(action),
        object_type=clean_text(object_type),
        object_id=clean_text(str(object_id)),
        fields=names,
        ip=normalise_ip(actor.ip),
        reason=clean_text(reason),
    )
    if connection.vendor == "postgresql":
        # No savepoint: a failing statement still marks the caller's transaction for rollback.
        with transaction.atomic(savepoint=False):
            if append_in_one_statement(event, org, names_text):
                return event
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(org=org)
        event.seq = head.seq + 1
        event.prev_hash = head.hash
        event.hash = event_hash(hashed_values(event))
        event.save(force_insert=True)
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event
