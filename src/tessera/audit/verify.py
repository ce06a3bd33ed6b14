"""Verify the audit hash chains: any edit, deletion, insertion or reordering is found and named."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tessera.audit.chain import HASHED_COLUMNS, event_hash
from tessera.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from tessera.tenancy.context import org_context, system_context
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


def _rows() -> Iterator[tuple[object, ...]]:
    columns = (*HASHED_COLUMNS, "hash")
    yield from AuditEvent.objects.order_by("seq").values_list(*columns).iterator(chunk_size=CHUNK)


def verify_current_chain(chain: str) -> ChainReport:
    """Verify the chain of the current context (an org_context or system_context)."""
    expected_seq = 1
    expected_prev = GENESIS_HASH
    count = 0
    for row in _rows():
        count += 1
        seq, prev_hash, stored_hash = row[1], row[11], row[12]
        if seq != expected_seq:
            kind = "missing or reordered" if seq > expected_seq else "duplicated or reordered"  # type: ignore[operator]
            return ChainReport(
                chain, count, False, f"event #{seq}: expected #{expected_seq} ({kind})"
            )
        if prev_hash != expected_prev:
            return ChainReport(
                chain, count, False, f"event #{seq}: does not follow event #{expected_seq - 1}"
            )
        if event_hash(row[:12]) != stored_hash:
            return ChainReport(chain, count, False, f"event #{seq}: content was altered")
        expected_prev = stored_hash  # type: ignore[assignment]
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
