"""Append events to the audit trail, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from tessera.audit.chain import event_hash
from tessera.audit.context import current_actor
from tessera.audit.models import AuditChainHead, AuditEvent
from tessera.tenancy.context import current_org, in_system_context
from tessera.tenancy.models import Organisation


def record(
    *,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
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
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(org=org)
        event = AuditEvent(
            org=org,
            seq=head.seq + 1,
            at=timezone.now(),
            actor_id=actor.user_id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            fields=sorted(set(fields)),
            ip=actor.ip,
            reason=reason,
            prev_hash=head.hash,
        )
        event.hash = event_hash(
            [
                event.org_id,
                event.seq,
                event.at,
                event.actor_id,
                event.actor_label,
                event.action,
                event.object_type,
                event.object_id,
                event.fields,
                event.ip,
                event.reason,
                event.prev_hash,
            ]
        )
        event.save(force_insert=True)
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event
