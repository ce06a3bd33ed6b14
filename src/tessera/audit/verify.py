"""Verify the audit hash chains: any edit, deletion, insertion or reordering is found and named."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from tessera.audit.models import GENESIS_HASH, AuditChainHead
from tessera.tenancy.context import current_org, org_context, system_context
from tessera.tenancy.models import Organisation

CHUNK = 20_000


@dataclass(frozen=True)
class ChainReport:
    chain: str
    events: int
    ok: bool
    problem: str = ""

    def __str__(self) -> str:
        status = "intact" if self.ok else f"BROKEN: {self.problem}"
        return f"{self.chain}: {self.events} events, {status}"


def _select_sql() -> str:
    """seq, prev_hash, hash and the canonical serialisation (chain.py), built by the database."""
    if connection.vendor == "postgresql":
        canonical = (
            "concat_ws(chr(30), coalesce(org_id::text, ''), seq::text, "
            "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), "
            "coalesce(actor_id::text, ''), actor_label, action, object_type, object_id, "
            "fields::text, coalesce(host(ip), ''), reason, prev_hash)"
        )
    else:
        # Django writes SQLite timestamps without a fraction when the microseconds are zero.
        at = "CASE WHEN length(at) = 19 THEN at || '.000000' ELSE at END"
        canonical = " || char(30) || ".join(
            [
                "coalesce(org_id, '')",
                "seq",
                at,
                "coalesce(actor_id, '')",
                "actor_label",
                "action",
                "object_type",
                "object_id",
                "fields",
                "coalesce(ip, '')",
                "reason",
                "prev_hash",
            ]
        )
    return (
        f"SELECT seq, prev_hash, hash, {canonical} FROM audit_auditevent "  # noqa: S608
        "WHERE org_id {} ORDER BY seq"
    )


def _rows() -> Iterator[tuple[int, str, str, str]]:
    org = current_org()
    sql = _select_sql().format("= %s" if org is not None else "IS NULL")
    params = [org.pk] if org is not None else []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(CHUNK):
            yield from batch


def verify_current_chain(chain: str) -> ChainReport:
    """Verify the chain of the current context (an org_context or system_context)."""
    expected_seq = 1
    expected_prev = GENESIS_HASH
    count = 0
    sha256 = hashlib.sha256
    for seq, prev_hash, stored_hash, serialised in _rows():
        count += 1
        if seq != expected_seq:
            kind = "missing or reordered" if seq > expected_seq else "duplicated or reordered"
            return ChainReport(
                chain, count, False, f"event #{seq}: expected #{expected_seq} ({kind})"
            )
        if prev_hash != expected_prev:
            return ChainReport(
                chain, count, False, f"event #{seq}: does not follow event #{expected_seq - 1}"
            )
        if sha256(serialised.encode()).hexdigest() != stored_hash:
            return ChainReport(chain, count, False, f"event #{seq}: content was altered")
        expected_prev = stored_hash
        expected_seq += 1
    head = AuditChainHead.objects.first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    last_seq = expected_seq - 1
    if head_seq > last_seq:
        problem = f"event #{expected_seq}: missing (the chain head records #{head_seq})"
        return ChainReport(chain, count, False, problem)
    if head_seq < last_seq:
        problem = f"event #{head_seq + 1}: inserted (the chain head records #{head_seq})"
        return ChainReport(chain, count, False, problem)
    if head_hash != expected_prev:
        problem = f"event #{last_seq}: does not match the chain head"
        return ChainReport(chain, count, False, problem)
    return ChainReport(chain, count, True)


def verify_all(org: Organisation | None = None) -> list[ChainReport]:
    """Verify one organisation's chain, or every chain (all organisations and the system chain)."""
    reports = []
    orgs = [org] if org is not None else list(Organisation.objects.order_by("pk"))
    for each in orgs:
        with org_context(each):
            reports.append(verify_current_chain(f"org {each.slug}"))
    if org is None:
        with system_context():
            reports.append(verify_current_chain("system"))
    return reports
