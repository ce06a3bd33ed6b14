"""PostgreSQL keeps case counts by group with triggers (ADR 0006): whatever writes cases (services,
bulk inserts, raw SQL, deletes), the kept counts equal a count of the rows, folding keeps them
exact, and an organisation never sees or changes another's counts."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import Count, Sum

from tessera.cases import selectors, services
from tessera.cases.models import Case, CaseCount
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Role

from .cases_helpers import actor
from .conftest import ON_POSTGRES, World

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES"
)
GROUP = ("status", "sensitivity", "team", "owner_id")


def _kept(org: Organisation) -> dict[tuple[object, ...], int]:
    with org_context(org):
        rows = CaseCount.objects.values(*GROUP).annotate(total=Sum("n"))
        return {tuple(r[k] for k in GROUP): r["total"] for r in rows if r["total"]}


def _actual(org: Organisation) -> dict[tuple[object, ...], int]:
    with org_context(org):
        rows = Case.objects.order_by().values(*GROUP).annotate(total=Count("pk"))
        return {
            tuple(r[k] if k != "owner_id" else (r[k] or 0) for k in GROUP): r["total"] for r in rows
        }


def test_kept_counts_follow_every_kind_of_write(world: World) -> None:
    member = actor(world, world.a)
    supervisor = actor(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        cases = [services.open_case(actor=member) for _ in range(3)]
        services.open_case(actor=member, data={"sensitivity": "restricted"})
        services.set_sensitivity(actor=supervisor, case=cases[0], sensitivity="highly_restricted")
        services.assign_case(actor=supervisor, case=cases[1], owner=supervisor.user, team="south")
        services.request_closure(actor=member, case=cases[2], reason="Support completed")
        services.approve_closure(actor=supervisor, case=cases[2])
        Case.objects.bulk_create(
            [Case(reference=f"B-{i}", opened_on=cases[0].opened_on, owner=None) for i in range(5)]
        )
        Case.objects.filter(reference__startswith="B-").update(status="FollowUp", team="east")
        Case.objects.filter(reference="B-0").delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case SET sensitivity = 'restricted' WHERE reference = 'B-1'"
            )
    assert _kept(world.a) == _actual(world.a)
    assert sum(_kept(world.a).values()) == 8


def test_folding_keeps_the_counts_exact(world: World) -> None:
    with org_context(world.a):
        for i in range(260):  # each statement adds rows of changes; past 500 they are folded
            Case.objects.bulk_create([Case(reference=f"F-{i}", opened_on=date(2024, 1, 1))])
            Case.objects.filter(reference=f"F-{i}").update(status="FollowUp" if i % 2 else "Closed")
        rows = CaseCount.objects.count()
    assert rows <= 501
    assert _kept(world.a) == _actual(world.a)


def test_counts_belong_to_their_organisation(world: World) -> None:
    with org_context(world.a):
        services.open_case(actor=actor(world, world.a))
    with org_context(world.b):
        services.open_case(actor=actor(world, world.b))
        assert CaseCount.objects.filter(org=world.a).count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_casecount")
            assert cursor.fetchone()[0] == 1  # row-level security hides organisation A's row
    assert sum(_kept(world.a).values()) == sum(_kept(world.b).values()) == 1


def test_the_list_total_uses_kept_counts_only_where_they_are_exact(world: World) -> None:
    member = actor(world, world.a)
    with org_context(world.a):
        case = services.open_case(actor=member)
        services.open_case(actor=member, data={"sensitivity": "restricted"})
        case.exploitation_tags = "|ForcedLabour|"
        case.save(update_fields=["exploitation_tags"])
        for filters, total in [
            ({}, 2),
            ({"status": "Active"}, 2),
            ({"owner": member.user_id}, 2),
            ({"exploitation_type": "ForcedLabour"}, 1),
            ({"status": "Closed"}, 0),
        ]:
            listing = selectors.CaseListing(actor=member, filters=filters)
            assert listing.count() == listing.cases().count() == total, filters
