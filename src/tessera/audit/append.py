"""Appending an event in one round trip on PostgreSQL: lock the chain head, insert, move the head.

record() on the request path used to take five round trips (savepoint, SELECT … FOR UPDATE, INSERT,
UPDATE, release); every one of them is waited for while the chain head is locked, so they also
lengthen the time other requests of the organisation queue behind that lock. This statement takes
the same row lock, in the same transaction, and so keeps the same guarantees: appends to one chain
are serialised, sequence numbers never race, and the head always names the newest event. Under
READ COMMITTED a waiting `FOR UPDATE` proceeds with the head as the previous append committed it.

The database computes the hash (`sha256()`, built into PostgreSQL since 11) over exactly the text
chain.py defines: Python builds the serialisation around the two values only the locked head knows
(the sequence number and the previous hash), so record() and verification cannot diverge.
"""

from __future__ import annotations

from django.db import connection

from tessera.audit.chain import SEPARATOR, at_text, canonical_text
from tessera.audit.models import AuditEvent
from tessera.tenancy.models import Organisation

_APPEND_SQL = """
WITH head AS (
    SELECT id, seq, hash FROM audit_auditchainhead WHERE {org_condition} FOR UPDATE
), event AS (
    SELECT id AS head_id, seq + 1 AS seq, hash AS prev_hash,
           encode(sha256(convert_to(
               %(before_seq)s::text || (seq + 1)::text || %(after_seq)s::text || hash, 'UTF8'
           )), 'hex') AS hash
    FROM head
), inserted AS (
    INSERT INTO audit_auditevent (org_id, seq, at, actor_id, actor_label, action, object_type,
                                  object_id, fields, ip, reason, prev_hash, hash)
    SELECT %(org_id)s, seq, %(at)s, %(actor_id)s, %(actor_label)s, %(action)s, %(object_type)s,
           %(object_id)s, %(fields)s::jsonb, %(ip)s::inet, %(reason)s, prev_hash, hash
    FROM event
    RETURNING id
), moved AS (
    UPDATE audit_auditchainhead SET seq = event.seq, hash = event.hash
    FROM event WHERE audit_auditchainhead.id = event.head_id
)
SELECT inserted.id, event.seq, event.prev_hash, event.hash FROM inserted, event
"""


def append_in_one_statement(event: AuditEvent, org: Organisation | None, fields: str) -> bool:
    """Fill in `event`'s seq, prev_hash, hash and id by appending it to its chain; False (nothing
    written) when the chain has no head yet, which the first event of a chain creates."""
    values = [
        at_text(event.at),
        event.actor_id,
        event.actor_label,
        event.action,
        event.object_type,
        event.object_id,
        fields,
        event.ip,
        event.reason,
    ]
    sql = _APPEND_SQL.format(org_condition="org_id = %(org_id)s" if org else "org_id IS NULL")
    params = {
        "org_id": org.pk if org else None,
        "before_seq": canonical_text([event.org_id]) + SEPARATOR,
        "after_seq": SEPARATOR + canonical_text(values) + SEPARATOR,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "fields": fields,
        "ip": event.ip,
        "reason": event.reason,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event.seq, event.prev_hash, event.hash = row
    event._state.adding = False
    event._state.db = connection.alias
    return True
