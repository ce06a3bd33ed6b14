"""Audit-chain verification throughput (goal: >= 200,000 events/s).

.venv/bin/python bench/audit_verify.py [--events 500000] [--postgres]
"""

from __future__ import annotations

import time

from _setup import machine, parse_args, setup_django


def main() -> None:
    args = parse_args(__doc__ or "", events=500_000)
    label = setup_django(args)

    from django.db import transaction
    from django.utils import timezone

    from tessera.audit.chain import event_hash, hashed_values
    from tessera.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
    from tessera.audit.verify import verify_current_chain
    from tessera.tenancy.context import org_context
    from tessera.tenancy.services import create_organisation

    org = create_organisation(slug="bench", name="Bench")
    with org_context(org):
        start_seq = AuditChainHead.objects.get().seq
        prev = AuditChainHead.objects.get().hash
        assert start_seq == 1 and prev != GENESIS_HASH
        batch: list[AuditEvent] = []
        built = time.perf_counter()
        now = timezone.now()
        for seq in range(start_seq + 1, start_seq + args.events + 1):
            event = AuditEvent(
                org=org,
                seq=seq,
                at=now,
                actor_id=1,
                actor_label="bench@example.test",
                action="case.update",
                object_type="Case",
                object_id=str(seq % 997),
                fields=["owner", "status"],
                ip="192.0.2.1",
                reason="",
                prev_hash=prev,
            )
            event.hash = prev = event_hash(hashed_values(event))
            batch.append(event)
            if len(batch) == 10_000:
                with transaction.atomic():
                    AuditEvent.objects.bulk_create(batch)
                batch.clear()
        if batch:
            AuditEvent.objects.bulk_create(batch)
        AuditChainHead.objects.update(seq=start_seq + args.events, hash=prev)
        print(f"built {args.events:,} events in {time.perf_counter() - built:.1f} s")

        best = 0.0
        for _ in range(3):
            started = time.perf_counter()
            report = verify_current_chain("bench")
            elapsed = time.perf_counter() - started
            assert report.ok, report
            best = max(best, report.events / elapsed)
        print(f"database: {label}; machine: {machine()}")
        print(
            f"verified {report.events:,} events: best of 3 = {best:,.0f} events/s (goal >= 200,000)"
        )


if __name__ == "__main__":
    main()
