"""Access rules live in selectors: sensitivity, teams, named users, break-glass, other orgs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from tessera.cases import selectors, services
from tessera.cases.models import BreakGlassGrant
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Role

from .cases_helpers import actor, audit_actions, open_case_with_victim
from .conftest import World, make_member


def _sees(member: Membership, case_id: object) -> bool:
    with org_context(member.org):
        return selectors.visible_cases(actor=member).filter(pk=case_id).exists()


def _teamed(world: World, email: str, team: str, role: Role = Role.CASEWORKER) -> Membership:
    user = make_member(world.a, role, email)
    Membership.objects.filter(user=user).update(team=team)
    return Membership.objects.select_related("org", "user").get(user=user)


def test_restricted_case_is_for_its_team_owner_and_supervisors(world: World) -> None:
    owner = _teamed(world, "owner@alpha.test", "north")
    teammate = _teamed(world, "mate@alpha.test", "north")
    outsider = _teamed(world, "out@alpha.test", "south")
    case = services.open_case(actor=owner, data={"sensitivity": "restricted"})
    assert case.team == "north"
    assert _sees(owner, case.pk)
    assert _sees(teammate, case.pk)
    assert _sees(actor(world, world.a, Role.SUPERVISOR), case.pk)
    assert not _sees(outsider, case.pk)
    assert not _sees(actor(world, world.a, Role.ANALYST), case.pk)


def test_highly_restricted_case_is_for_named_users_only(world: World) -> None:
    owner = _teamed(world, "owner@alpha.test", "north")
    teammate = _teamed(world, "mate@alpha.test", "north")
    supervisor = actor(world, world.a, Role.SUPERVISOR)
    case = services.open_case(actor=owner)
    services.set_sensitivity(actor=supervisor, case=case, sensitivity="highly_restricted")
    assert _sees(owner, case.pk)
    assert not _sees(teammate, case.pk)
    assert not _sees(supervisor, case.pk)
    services.grant_case_access(actor=supervisor, case=case, user=teammate.user)
    assert _sees(teammate, case.pk)
    services.revoke_case_access(actor=supervisor, case=case, user=teammate.user)
    assert not _sees(teammate, case.pk)


def test_break_glass_needs_a_reason_lasts_an_hour_and_is_audited(world: World) -> None:
    owner = _teamed(world, "owner@alpha.test", "north")
    outsider = _teamed(world, "out@alpha.test", "south")
    case = services.open_case(actor=owner, data={"sensitivity": "restricted"})
    with pytest.raises(HtcdsValidationError, match="reason"):
        services.break_glass(actor=outsider, case=case, reason="need")
    assert not _sees(outsider, case.pk)
    grant = services.break_glass(actor=outsider, case=case, reason="Survivor called the night line")
    assert _sees(outsider, case.pk)
    assert audit_actions(world.a)[-1] == "case.break_glass"
    assert timedelta(minutes=59) < grant.expires_at - timezone.now() <= timedelta(hours=1)
    supervisor = actor(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        assert [g.pk for g in selectors.active_break_glass(actor=supervisor)] == [grant.pk]
        assert not selectors.active_break_glass(actor=outsider).exists()
        BreakGlassGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    assert not _sees(outsider, case.pk)


def test_another_organisation_finds_nothing(world: World) -> None:
    case, party = open_case_with_victim(actor(world, world.a))
    other = actor(world, world.b, Role.ORG_ADMIN)
    with org_context(world.b):
        assert not selectors.visible_cases(actor=other).exists()
        assert not selectors.search_people(actor=other, query="Amina").exists()
        with pytest.raises(Http404):
            selectors.get_case(actor=other, case_id=case.pk)
        with pytest.raises(Http404):
            selectors.get_person(actor=other, person_id=party.person_id)
        with pytest.raises(Http404):
            selectors.get_party(actor=other, party_id=party.pk)


def test_people_in_hidden_cases_are_hidden_and_counted(world: World) -> None:
    owner = _teamed(world, "owner@alpha.test", "north")
    outsider = _teamed(world, "out@alpha.test", "south")
    open_case, party = open_case_with_victim(owner)
    hidden = services.open_case(actor=owner, data={"sensitivity": "highly_restricted"})
    services.add_party(actor=owner, case=hidden, role="Perpetrator", person=party.person)
    with org_context(world.a):
        roles, hidden_count = selectors.person_cases(actor=outsider, person=party.person)
        assert [r.case_id for r in roles] == [open_case.pk]
        assert hidden_count == 1
