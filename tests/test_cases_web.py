"""Case pages: the caseworker's flow, inline errors, search, and the walls around restricted cases."""

from __future__ import annotations

from django.test import Client

from tessera.cases.models import Case, Person
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Role

from .conftest import World, make_member


def _open(client: Client, sensitivity: str = "standard") -> str:
    response = client.post("/cases/new/", {"sensitivity": sensitivity})
    assert response.status_code == 302
    return str(response["Location"]).split("/")[2]


def test_caseworker_records_people_event_plan_and_consent(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    case_id = _open(client)
    page = f"/cases/{case_id}/"
    victim = {
        "action": "add_party",
        "role": "PotentialVictim",
        "prs_FirstName": "Mira",
        "prs_SecondName": "Lopez",
        "prs_MobilePhone": "+44 7700 900555",
        "vic_TypeOfExploitation": ["ForcedLabour"],
    }
    assert client.post(page, victim).status_code == 302
    perp = {
        "action": "add_party",
        "role": "Perpetrator",
        "prs_FirstName": "Karl",
        "per_RoleInProcess": ["Transporter"],
    }
    assert client.post(page, perp).status_code == 302
    assert (
        client.post(
            page,
            {
                "action": "record_event",
                "hte_Type": "Exploitation",
                "hte_Country": "GB",
                "hte_Date": "2024-03-01",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            page, {"action": "create_plan", "spl_Type": "Health", "goal": "See a doctor"}
        ).status_code
        == 302
    )
    with org_context(world.a):
        mira = Person.objects.get(first_name_index__isnull=False, parties__role="PotentialVictim")
    assert (
        client.post(
            page,
            {
                "action": "record_consent",
                "person": str(mira.pk),
                "purpose": "care",
                "con_Consent": "given",
                "evidence": "signed",
            },
        ).status_code
        == 302
    )
    assert "Mira Lopez" in client.get(page).content.decode()
    assert "See a doctor" in client.get(page + "?tab=plan").content.decode()
    listing = client.get("/cases/?q=07700900555").content.decode()
    assert "1 case" in listing
    assert "Mira" in client.get(f"/cases/people/{mira.pk}/").content.decode()


def test_invalid_form_input_is_shown_inline_and_nothing_saved(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    case_id = _open(client)
    response = client.post(
        f"/cases/{case_id}/",
        {
            "action": "record_event",
            "tab": "events",
            "hte_Type": "Exploitation",
            "hte_Date": "31/02/2024",
        },
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert "hte_Date" in response.content.decode()
    with org_context(world.a):
        assert Case.objects.get(pk=case_id).events.count() == 0


def test_duplicate_warning_lists_matching_people(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    case_id = _open(client)
    client.post(
        f"/cases/{case_id}/",
        {
            "action": "add_party",
            "role": "Victim",
            "prs_FirstName": "Ana",
            "prs_SecondName": "Silva",
        },
    )
    response = client.get(
        "/cases/people/duplicates/", {"prs_FirstName": "ANA", "prs_SecondName": "silva"}
    )
    assert "Possible duplicate" in response.content.decode()
    assert (
        "Possible duplicate"
        not in client.get("/cases/people/duplicates/", {"prs_FirstName": "Bo"}).content.decode()
    )


def test_other_organisation_can_neither_find_nor_open_a_case(world: World) -> None:
    case_id = _open(world.client_for(world.a, Role.CASEWORKER))
    other = world.client_for(world.b, Role.CASEWORKER)
    assert other.get(f"/cases/{case_id}/").status_code == 404
    assert other.get(f"/cases/{case_id}/break-glass/").status_code == 404
    assert "0 cases" in other.get("/cases/").content.decode()


def test_restricted_case_hidden_until_break_glass(world: World) -> None:
    owner = world.user(world.a, Role.CASEWORKER)
    Membership.objects.filter(user=owner).update(team="north")
    case_id = _open(world.client_for(world.a, Role.CASEWORKER), "restricted")
    outsider = make_member(world.a, Role.CASEWORKER, "south@alpha.test")
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/cases/{case_id}/").status_code == 404
    assert client.post(f"/cases/{case_id}/break-glass/", {"reason": "short"}).status_code == 400
    assert (
        client.post(
            f"/cases/{case_id}/break-glass/", {"reason": "Survivor at the door, owner unreachable"}
        ).status_code
        == 302
    )
    assert client.get(f"/cases/{case_id}/").status_code == 200


def test_analyst_sees_no_case_pages(world: World) -> None:
    analyst = world.client_for(world.a, Role.ANALYST)
    assert analyst.get("/cases/").status_code == 403
