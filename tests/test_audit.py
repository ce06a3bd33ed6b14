"""The audit trail: appended in the caller's transaction, hash-chained, and every tampering found."""

from __future__ import annotations

import threading
import time

import pytest
from click.testing import CliRunner
from django.db import connection, connections, transaction

from tessera.audit.chain import HASHED_COLUMNS, at_text, event_hash, hashed_values
from tessera.audit.models import GENESIS_HASH, AuditEvent
from tessera.audit.services import record
from tessera.audit.verify import verify_all
from tessera.cli import main as tessera_cli
from tessera.tenancy.context import org_context, system_context
from tessera.tenancy.models import Organisation

from .conftest import ON_POSTGRES, World

pytestmark = pytest.mark.owner  # tampering needs the table owner's rights on PostgreSQL


def execute(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def events(org: Organisation) -> list[AuditEvent]:
    with org_context(org):
        return list(AuditEvent.objects.order_by("seq"))


def verify_org(org: Organisation) -> str:
    (report,) = verify_all(org)
    return "" if report.ok else report.problem


def add_events(org: Organisation, count: int) -> None:
    with org_context(org):
        for index in range(count):
            record(action="test.event", object_type="Thing", object_id=index, fields=["b", "a"])


def test_events_form_an_intact_chain_per_organisation(world: World) -> None:
    add_events(world.a, 3)
    chain = events(world.a)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(
        later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:], strict=False)
    )
    assert chain[-1].fields == ["a", "b"]
    reports = verify_all()
    assert [r.chain for r in reports] == ["org alpha", "org beta", "system"]
    assert all(r.ok for r in reports), reports


def test_an_event_rolls_back_with_the_change_it_records(world: World) -> None:
    before = len(events(world.a))
    with pytest.raises(RuntimeError), org_context(world.a), transaction.atomic():
        record(action="test.doomed")
        raise RuntimeError("the change failed")
    assert len(events(world.a)) == before
    assert verify_org(world.a) == ""


def test_record_needs_an_organisation_or_the_system_context(world: World) -> None:
    with pytest.raises(RuntimeError, match="organisation context"):
        record(action="test.orphan")
    with system_context():
        event = record(action="test.system")
    assert event.org_id is None


def test_actor_and_reason_are_recorded(world: World) -> None:
    from tessera.audit.context import Actor, acting_as

    with (
        acting_as(Actor(user_id=7, label="someone@example.test", ip="2001:db8::1")),
        org_context(world.a),
    ):
        event = record(action="case.break_glass", reason="Emergency: survivor at risk")
    assert (event.actor_id, event.actor_label, event.ip) == (
        7,
        "someone@example.test",
        "2001:db8::1",
    )
    with org_context(world.b):
        assert not AuditEvent.objects.filter(pk=event.pk).exists()
    assert verify_org(world.a) == ""


def test_editing_an_event_is_detected_and_named(world: World) -> None:
    add_events(world.a, 3)
    execute(
        "UPDATE audit_auditevent SET action = 'harmless' WHERE org_id = %s AND seq = 2",
        [world.a.pk],
    )
    assert verify_org(world.a) == "event #2: content was altered"
    assert verify_org(world.b) == ""


def test_editing_the_hash_too_is_detected_by_the_next_event(world: World) -> None:
    add_events(world.a, 3)
    event = events(world.a)[1]
    event.reason = "forged"
    values = hashed_values(event)
    execute(
        "UPDATE audit_auditevent SET reason = 'forged', hash = %s WHERE id = %s",
        [event_hash(values), event.pk],
    )
    assert verify_org(world.a) == "event #3: does not follow event #2"


def test_deleting_an_event_is_detected(world: World) -> None:
    add_events(world.a, 3)
    execute("DELETE FROM audit_auditevent WHERE org_id = %s AND seq = 2", [world.a.pk])
    assert verify_org(world.a) == "event #3: expected #2 (missing or reordered)"


def test_deleting_the_newest_events_is_detected(world: World) -> None:
    add_events(world.a, 3)
    last = events(world.a)[-1].seq
    execute("DELETE FROM audit_auditevent WHERE org_id = %s AND seq = %s", [world.a.pk, last])
    assert verify_org(world.a) == f"event #{last}: missing (the chain head records #{last})"


def test_reordering_events_is_detected(world: World) -> None:
    add_events(world.a, 3)
    execute("UPDATE audit_auditevent SET seq = 999999 WHERE org_id = %s AND seq = 2", [world.a.pk])
    execute("UPDATE audit_auditevent SET seq = 2 WHERE org_id = %s AND seq = 3", [world.a.pk])
    execute("UPDATE audit_auditevent SET seq = 3 WHERE org_id = %s AND seq = 999999", [world.a.pk])
    assert verify_org(world.a) == "event #2: does not follow event #1"


def test_inserting_a_well_formed_forged_event_is_detected(world: World) -> None:
    last = events(world.a)[-1]
    forged = [
        world.a.pk,
        last.seq + 1,
        at_text(last.at),
        None,
        "nobody",
        "case.delete",
        "Case",
        "1",
        [],
        None,
        "",
        last.hash,
    ]
    columns = ", ".join(HASHED_COLUMNS)
    placeholders = ", ".join(["%s"] * (len(HASHED_COLUMNS) + 1))
    forged[HASHED_COLUMNS.index("fields")] = "[]"
    params = [*forged, event_hash(forged)]
    execute(f"INSERT INTO audit_auditevent ({columns}, hash) VALUES ({placeholders})", params)
    assert (
        verify_org(world.a)
        == f"event #{last.seq + 1}: inserted (the chain head records #{last.seq})"
    )


def test_cli_audit_verify_exit_codes(world: World) -> None:
    runner = CliRunner()
    ok = runner.invoke(tessera_cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "org alpha" in ok.output and "intact" in ok.output
    execute("UPDATE audit_auditevent SET reason = 'x' WHERE org_id = %s AND seq = 1", [world.b.pk])
    broken = runner.invoke(tessera_cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "org beta" in broken.output and "event #1: content was altered" in broken.output
    only_a = runner.invoke(tessera_cli, ["audit", "verify", "--org", "alpha"])
    assert only_a.exit_code == 0
    unknown = runner.invoke(tessera_cli, ["audit", "verify", "--org", "nope"])
    assert unknown.exit_code != 0 and "No organisation with the slug 'nope'" in unknown.output


def test_database_and_python_serialise_awkward_values_identically(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from tessera.audit import services
    from tessera.audit.context import Actor, acting_as

    monkeypatch.setattr(services.timezone, "now", lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    awkward = 'Ünïcode, "quotes", emoji 🚨, tab\t, separator \x1e and newline\n'
    with acting_as(Actor(user_id=None, label=awkward, ip="::ffff:192.0.2.1")), org_context(world.a):
        event = record(
            action="test.awkward", object_id=awkward, fields=["z", "a.b"], reason=awkward
        )
    assert "\x1e" not in event.reason
    assert verify_org(world.a) == ""


def test_field_names_must_be_identifiers(world: World) -> None:
    with org_context(world.a), pytest.raises(ValueError, match="identifiers"):
        record(action="test.bad", fields=["name; DROP"])


@pytest.mark.skipif(not ON_POSTGRES, reason="needs TESSERA_TEST_POSTGRES")
def test_concurrent_appends_to_one_chain_queue_and_keep_it_intact(
    transactional_db: None, world: World
) -> None:
    """Writers that each hold the chain head for a while: every append waits for the previous one
    and continues from the head it committed, so sequence numbers never repeat or skip."""
    writers, each = 6, 8
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(number: int) -> None:
        try:
            start.wait()
            for index in range(each):
                with org_context(world.a):
                    record(action="test.race", object_id=f"{number}-{index}")
                    time.sleep(0.002)  # holding the head lock makes the others queue behind it
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    before = len(events(world.a))
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    chain = events(world.a)
    assert [e.seq for e in chain] == list(range(1, before + writers * each + 1))
    raced = {e.object_id for e in chain if e.action == "test.race"}
    assert raced == {f"{n}-{i}" for n in range(writers) for i in range(each)}
    assert verify_org(world.a) == ""
