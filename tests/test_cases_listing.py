"""The case list's pages and counts find exactly the cases the access rule shows, for every kind of
member and filter: the count adds disjoint parts of the rule, so a part that overlapped another, or
missed a case, would show here as a wrong total (and leak how many hidden cases match)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tessera.cases import selectors, services
from tessera.cases.models import BreakGlassGrant, Case
from tessera.cases.selectors import listing as listing_module
from tessera.cases.selectors.listing import CASE_ORDER
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Role

from .cases_helpers import actor
from .conftest import ON_POSTGRES, World, make_member


def _member(world: World, email: str, role: Role, team: str) -> Membership:
    user = make_member(world.a, role, email)
    Membership.objects.filter(user=user).update(team=team)
    return Membership.objects.select_related("org", "user").get(user=user)


def _case(owner: Membership, sensitivity: str, exploitation: str, country: str) -> Case:
    case = services.open_case(actor=owner, data={"sensitivity": sensitivity})
    services.add_party(
        actor=owner,
        case=case,
        role="PotentialVictim",
        person_data={"prs_FirstName": "Listed", "prs_MobilePhone": "+44 7700 900555"},
        context={"vic_TypeOfExploitation": [exploitation]},
    )
    services.record_event(
        actor=owner, case=case, data={"hte_Type": "Exploitation", "hte_Country": country}
    )
    return case


@pytest.fixture
def members(world: World) -> dict[str, Membership]:
    """Members of every kind the rule tells apart, and cases of every sensitivity they own, are
    named on, or opened by break-glass (one grant expired)."""
    people = {
        "north": _member(world, "north@alpha.test", Role.CASEWORKER, "north"),
        "mate": _member(world, "mate@alpha.test", Role.CASEWORKER, "north"),
        "south": _member(world, "south@alpha.test", Role.CASEWORKER, "south"),
        "no team": _member(world, "loner@alpha.test", Role.CASEWORKER, ""),
        "supervisor": actor(world, world.a, Role.SUPERVISOR),
        "admin": actor(world, world.a, Role.ORG_ADMIN),
        "analyst": actor(world, world.a, Role.ANALYST),
    }
    supervisor = people["supervisor"]
    with org_context(world.a):
        cases: dict[tuple[str, str], list[Case]] = {}
        for owner in ("north", "mate", "south", "no team"):
            for sensitivity in ("standard", "restricted", "highly_restricted"):
                cases[(owner, sensitivity)] = [
                    _case(people[owner], sensitivity, exploitation, country)
                    for exploitation, country in (("ForcedLabour", "GB"), ("Servitude", "TH"))
                ]
        north, south = people["north"], people["south"]
        services.grant_case_access(
            actor=supervisor, case=cases[("south", "highly_restricted")][0], user=north.user
        )
        services.grant_case_access(
            actor=supervisor, case=cases[("mate", "restricted")][0], user=south.user
        )
        reason = "Night line call, owner away"
        services.break_glass(actor=north, case=cases[("no team", "restricted")][0], reason=reason)
        expired = services.break_glass(
            actor=north, case=cases[("no team", "highly_restricted")][0], reason=reason
        )
        BreakGlassGrant.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
        closed = cases[("north", "standard")][0]
        services.request_closure(actor=north, case=closed, reason="Done")
        services.approve_closure(actor=supervisor, case=closed)
    with org_context(world.b):
        _case(actor(world, world.b, Role.CASEWORKER), "standard", "ForcedLabour", "GB")
    return people


FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "Active"},
    {"status": "Closed"},
    {"exploitation_type": "ForcedLabour"},
    {"country": "gb"},
    {"exploitation_type": "Servitude", "country": "TH"},
    {"status": "Active", "exploitation_type": "ForcedLabour", "country": "GB"},
    {"sensitivity": "restricted"},
    {"team": "north"},
    {"opened_from": timezone.localdate(), "opened_to": timezone.localdate()},
    {"opened_from": timezone.localdate() + timedelta(days=1)},
    {"q": "+44 7700 900555"},
    {"q": "listed"},
    {"q": "nobody"},
    {"q": "!!!"},
]


@pytest.mark.parametrize(
    "who", ["north", "mate", "south", "no team", "supervisor", "admin", "analyst"]
)
def test_count_and_pages_match_the_access_rule_for_every_filter(
    world: World, members: dict[str, Membership], who: str
) -> None:
    member = members[who]
    owners = {"owner": members["mate"].user_id}
    with org_context(world.a):
        for filters in [*FILTERS, owners]:
            listing = selectors.CaseListing(actor=member, filters=filters)
            expected = list(listing.cases().order_by(*CASE_ORDER).values_list("pk", flat=True))
            assert listing.count() == len(expected), (who, filters)
            paged = [
                pk
                for start in range(0, 30, 4)
                for pk in listing.page(start, 4).values_list("pk", flat=True)
            ]
            assert paged == expected, (who, filters)


def test_the_rule_shows_each_member_what_the_access_tests_expect(
    world: World, members: dict[str, Membership]
) -> None:
    with org_context(world.a):
        counts = {
            who: selectors.CaseListing(actor=m, filters={}).count() for who, m in members.items()
        }
    # Each member owns two cases of each sensitivity; 8 cases are standard.
    assert counts["north"] == 8 + 4 + 2 + 1 + 1  # team's restricted, own highly, named, glass
    assert counts["mate"] == 8 + 4 + 2
    assert counts["south"] == 8 + 2 + 2 + 1  # a named grant on a restricted case of the north
    assert counts["no team"] == 8 + 2 + 2  # own restricted cases only
    assert counts["supervisor"] == counts["admin"] == 8 + 8
    assert counts["analyst"] == 0


def test_a_full_page_costs_one_counting_statement_and_reads_no_password(
    world: World, members: dict[str, Membership]
) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    client.get("/api/v1/cases?limit=2")
    with CaptureQueriesContext(connection) as captured:
        body = client.get("/api/v1/cases?limit=2").json()
    case_statements = [q["sql"] for q in captured.captured_queries if "cases_case" in q["sql"]]
    assert (len(body["items"]), body["count"]) == (2, 16)
    assert len(case_statements) == 2
    assert sum("COUNT(*)" in sql for sql in case_statements) == 1
    assert not any("password" in sql for sql in case_statements)
    assert body["items"][0]["cas_CaseOwner"].endswith("@alpha.test")


COLUMNS = ("id", "reference", "owner_email", "opened_on", "extensions")


@pytest.mark.parametrize("who", ["north", "south", "no team", "supervisor", "analyst"])
def test_kept_statements_find_what_the_orm_finds(
    world: World, members: dict[str, Membership], who: str
) -> None:
    """On PostgreSQL a page, a count and a case read are compiled once per shape and sent again
    with new values (`selectors.compiled`): the second and later calls must agree with the ORM."""
    member = members[who]
    with org_context(world.a):
        for filters in [*FILTERS, {"owner": members["mate"].user_id}]:
            listing = selectors.CaseListing(actor=member, filters=filters)
            expected = list(listing.cases().order_by(*CASE_ORDER).values_list("pk", flat=True))
            for _ in range(2):
                assert listing.count() == len(expected), (who, filters)
                rows = [
                    r for start in range(0, 30, 4) for r in listing.page_rows(start, 4, COLUMNS)
                ]
                assert [r["id"] for r in rows] == expected, (who, filters)
                assert all(r["opened_on"] == timezone.localdate() for r in rows)
        visible = set(selectors.visible_cases(actor=member).values_list("pk", flat=True))
        for _ in range(2):
            for case in Case.objects.select_related("owner"):
                if case.pk in visible:
                    row = selectors.case_row(actor=member, case_id=case.pk, columns=COLUMNS)
                    assert (row["id"], row["owner_email"]) == (case.pk, case.owner.email)
                else:
                    with pytest.raises(Http404):
                        selectors.case_row(actor=member, case_id=case.pk, columns=COLUMNS)


def test_a_kept_statement_reads_the_time_anew(world: World, members: dict[str, Membership]) -> None:
    """Break-glass ends on time even for a statement compiled while it was open."""
    north = members["north"]
    with org_context(world.a):
        grant = BreakGlassGrant.objects.get(user=north.user, expires_at__gt=timezone.now())
        listing = selectors.CaseListing(actor=north, filters={})
        total = listing.count()
        assert grant.case_id in {r["id"] for r in listing.page_rows(0, 100, COLUMNS)}
        selectors.case_row(actor=north, case_id=grant.case_id, columns=COLUMNS)
        BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
        listing = selectors.CaseListing(actor=north, filters={})
        assert listing.count() == total - 1
        assert grant.case_id not in {r["id"] for r in listing.page_rows(0, 100, COLUMNS)}
        with pytest.raises(Http404):
            selectors.case_row(actor=north, case_id=grant.case_id, columns=COLUMNS)


@pytest.mark.skipif(not ON_POSTGRES, reason="statements are kept on PostgreSQL only")
def test_a_kept_shape_builds_no_query_and_a_team_change_is_a_new_shape(
    world: World, members: dict[str, Membership], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Membership] = []
    real = listing_module.visibility

    def counting(actor: Membership, **kwargs: Any) -> Any:
        built.append(actor)
        return real(actor, **kwargs)

    monkeypatch.setattr(listing_module, "visibility", counting)
    member = members["mate"]
    with org_context(world.a):
        first = selectors.CaseListing(actor=member, filters={"status": "Active"})
        expected = (first.count(), first.page_rows(0, 5, COLUMNS))
        assert len(built) == 2  # compiled: the count and the page
        again = selectors.CaseListing(actor=member, filters={"status": "Active"})
        assert (again.count(), again.page_rows(0, 5, COLUMNS)) == expected
        assert len(built) == 2
        Membership.objects.filter(pk=member.pk).update(team="")
        moved = Membership.objects.select_related("org", "user").get(pk=member.pk)
        listing = selectors.CaseListing(actor=moved, filters={"status": "Active"})
        assert listing.count() == len(listing.cases().values_list("pk", flat=True)) != expected[0]
        assert len(built) == 4
