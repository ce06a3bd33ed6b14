"""The helpline API: contacts CRUD, the telephony caller lookup, tasks, knowledge search, and the
public report endpoint; with every role of another organisation enumerated against them."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tessera.accounts.tokens import create_token
from tessera.api.base import PERMISSION_KEY, PUBLIC_KEY
from tessera.api.urls import api
from tessera.audit.models import AuditEvent
from tessera.helpline.models import Contact
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Perm, Role, role_has_perm

from .conftest import World
from .helpline_helpers import contact_from, post_json


def _bearer(world: World, role: Role) -> dict[str, str]:
    _token, raw = create_token(user=world.user(world.a, role), org=world.a)
    return {"Authorization": f"Bearer {raw}"}


def test_contact_crud_round_trip(world: World) -> None:
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    created = post_json(
        client,
        "/api/v1/helpline/contacts",
        {
            "channel": "whatsapp",
            "caller_type": "business",
            "caller_phone": "07700 900321",
            "summary": "Supplier audit found withheld wages",
            "urgency": "urgent",
            "is_exploitation": True,
            "language": "en",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["caller_phone"] == "+447700900321" and body["channel"] == "whatsapp"
    contact_id = body["id"]
    listed = client.get("/api/v1/helpline/contacts?channel=whatsapp").json()
    assert listed["count"] == 1 and "caller_phone" not in listed["items"][0]
    assert listed["items"][0]["has_caller_phone"] is True
    updated = client.patch(
        f"/api/v1/helpline/contacts/{contact_id}",
        '{"outcome": "referred_police", "triage_status": "done"}',
        content_type="application/json",
    )
    assert updated.status_code == 200 and updated.json()["outcome"] == "referred_police"
    read = client.get(f"/api/v1/helpline/contacts/{contact_id}")
    assert read.json()["summary"] == "Supplier audit found withheld wages"
    with org_context(world.a):
        assert AuditEvent.objects.filter(action="contact.identity_read").count() == 1


def test_invalid_contact_answers_400_naming_fields(world: World) -> None:
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    response = post_json(client, "/api/v1/helpline/contacts", {"channel": "fax", "colour": "red"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"channel", "colour"}


def test_contact_can_open_a_new_case_or_join_an_existing_one(world: World) -> None:
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    first = contact_from(world, world.a, "+447700900400")
    second = contact_from(world, world.a, "+447700900400")
    opened = post_json(client, f"/api/v1/helpline/contacts/{first.pk}/case", {})
    assert opened.status_code == 200
    case_id = opened.json()["case_id"]
    joined = post_json(client, f"/api/v1/helpline/contacts/{second.pk}/case", {"case_id": case_id})
    assert joined.json()["case_id"] == case_id
    with org_context(world.a):
        assert Contact.objects.filter(case_id=case_id).count() == 2


def test_people_the_advisor_may_see_can_be_linked_to_a_contact(world: World) -> None:
    from tessera.cases import services as case_services

    from .helpline_helpers import member

    contact = contact_from(world, world.a, "+447700900410")
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        case = case_services.open_case(actor=supervisor)
        party = case_services.add_party(
            actor=supervisor, case=case, role="PotentialVictim", person_data={"prs_FirstName": "A"}
        )
    with org_context(world.b):
        other = case_services.open_case(actor=member(world, world.b, Role.SUPERVISOR))
        foreign = case_services.add_party(
            actor=member(world, world.b, Role.SUPERVISOR),
            case=other,
            role="Witness",
            person_data={"prs_FirstName": "B"},
        )
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    path = f"/api/v1/helpline/contacts/{contact.pk}/people"
    linked = post_json(client, path, {"person_id": str(party.person_id), "role": "victim"})
    assert linked.status_code == 201 and linked.json()["people"] == [str(party.person_id)]
    assert post_json(client, path, {"person_id": str(party.person_id)}).status_code == 400
    assert post_json(client, path, {"person_id": str(foreign.person_id)}).status_code == 404


def test_lookup_by_token_returns_history_cases_and_flags(world: World) -> None:
    contact = contact_from(
        world, world.a, "+44 7700 900999", safety_flags=["do_not_call_back"], summary="x"
    )
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    post_json(client, f"/api/v1/helpline/contacts/{contact.pk}/case", {})
    response = post_json(
        Client(),
        "/api/v1/helpline/lookup",
        {"phone": "07700900999"},
        headers=_bearer(world, Role.HELPLINE_ADVISOR),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+447700900999" and body["known"] is True
    assert [c["id"] for c in body["contacts"]] == [str(contact.pk)]
    assert len(body["open_cases"]) == 1 and body["safety_flags"] == ["do_not_call_back"]
    assert "summary" not in body["contacts"][0]
    with org_context(world.a):
        assert AuditEvent.objects.filter(action="helpline.lookup").exists()


def test_lookup_refuses_what_is_not_a_phone_number(world: World) -> None:
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    response = post_json(client, "/api/v1/helpline/lookup", {"phone": "hello"})
    assert response.status_code == 400
    assert post_json(client, "/api/v1/helpline/lookup", {}).status_code in (400, 422)


def test_lookup_never_returns_another_organisations_contacts(world: World) -> None:
    # The same number called both organisations; each sees only its own contact.
    mine = contact_from(world, world.a, "+447700900111", safety_flags=["do_not_call_back"])
    contact_from(world, world.b, "+447700900111", safety_flags=["perpetrator_may_answer"])
    for role in Role:
        client = world.client_for(world.b, role)
        response = post_json(client, "/api/v1/helpline/lookup", {"phone": "+447700900111"})
        if not role_has_perm(role, Perm.HANDLE_CONTACTS):
            assert response.status_code == 403, role
            continue
        body = response.json()
        assert str(mine.pk) not in {c["id"] for c in body["contacts"]}, role
        assert body["safety_flags"] == ["perpetrator_may_answer"], role
    only_a = contact_from(world, world.a, "+447700900222")
    for role in (Role.HELPLINE_ADVISOR, Role.SUPERVISOR, Role.ORG_ADMIN):
        client = world.client_for(world.b, role)
        body = post_json(client, "/api/v1/helpline/lookup", {"phone": "+447700900222"}).json()
        assert body == {
            "phone": "+447700900222",
            "known": False,
            "safety_flags": [],
            "contacts": [],
            "open_cases": [],
            "hidden_contacts": 0,
        }, (role, only_a.pk)


BODIES = {
    "/api/v1/helpline/contacts": {"channel": "phone", "summary": "b's own contact"},
    "/api/v1/helpline/lookup": {"phone": "+447700900333"},
    "/api/v1/helpline/tasks": {"title": "b's own task"},
}


def test_every_helpline_operation_refuses_other_organisations_and_roles(world: World) -> None:
    """Enumerates the helpline operations from the OpenAPI document: a member of B (every role)
    never reaches A's contacts, whether through listing, lookup or search."""
    contact_from(world, world.a, "+447700900333", summary="alpha secret")
    schema = api.get_openapi_schema()
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/helpline/") or "{" in path:
            continue
        for method, operation in operations.items():
            perm = operation[PERMISSION_KEY]
            for role in Role:
                client = world.client_for(world.b, role)
                if method == "get":
                    response = client.get(path + "?q=alpha&scope=all")
                else:
                    response = post_json(client, path, BODIES[path])
                if not role_has_perm(role, Perm(perm)):
                    assert response.status_code == 403, (path, role)
                else:
                    assert response.status_code in (200, 201), (path, role, response.content)
                    assert "alpha secret" not in response.content.decode()
                    assert '"known": true' not in response.content.decode()
                    if method == "get":
                        assert response.json()["count"] == 0, (path, role)
                checked += 1
    assert checked >= 5 * len(Role)


def test_public_report_endpoint_is_public_and_scoped_by_slug(world: World) -> None:
    schema = api.get_openapi_schema()
    assert schema["paths"]["/api/v1/public/reports"]["post"][PUBLIC_KEY] is True
    response = post_json(
        Client(), "/api/v1/public/reports", {"org": "alpha", "summary": "Men locked in a van"}
    )
    assert response.status_code == 201
    contact_id = response.json()["id"]
    with org_context(world.a):
        contact = Contact.objects.get(pk=contact_id)
        assert contact.channel == "app" and contact.triage_status == "new"
    with org_context(world.b):
        assert not Contact.objects.filter(pk=contact_id).exists()
    # Logged in to B, the report still goes where its slug says, attributed to the public.
    logged_in = world.client_for(world.b, Role.HELPLINE_ADVISOR)
    again = post_json(logged_in, "/api/v1/public/reports", {"org": "alpha", "summary": "again"})
    assert again.status_code == 201
    with org_context(world.a):
        event = AuditEvent.objects.filter(action="contact.public_report").order_by("-seq").first()
        assert event is not None and event.actor_id is None


def test_public_report_endpoint_rejects_unknown_org_and_malformed_bodies(world: World) -> None:
    client = Client()
    unknown = post_json(client, "/api/v1/public/reports", {"org": "nope", "summary": "x"})
    assert unknown.status_code == 404
    cases: list[tuple[Any, int]] = [
        ({"summary": "no org"}, 400),
        ({"org": "alpha"}, 400),
        ({"org": "alpha", "summary": "x", "caller_phone": "garbage"}, 400),
        ({"org": "alpha", "summary": "x", "owner": 1}, 400),
        ({"org": "alpha", "summary": "x" * 40_000}, 413),
    ]
    for body, status in cases:
        response = post_json(client, "/api/v1/public/reports", body)
        assert response.status_code == status, (body, response.content)
        assert response.json()["detail"]
    broken = client.post("/api/v1/public/reports", "{not json", content_type="application/json")
    assert broken.status_code in (400, 422)


def test_linking_through_the_api_lists_only_people_the_advisor_may_see(world: World) -> None:
    from tessera.cases import services as case_services
    from tessera.cases.models import Sensitivity
    from tessera.helpline import services

    from .helpline_helpers import member

    contact = contact_from(world, world.a, "+447700900420")
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        secret_case = case_services.open_case(
            actor=supervisor, data={"sensitivity": Sensitivity.HIGHLY_RESTRICTED}
        )
        secret = case_services.add_party(
            actor=supervisor, case=secret_case, role="Witness", person_data={"prs_FirstName": "S"}
        )
        services.link_person(actor=supervisor, contact=contact, person=secret.person)
        open_case = case_services.open_case(actor=supervisor)
        visible = case_services.add_party(
            actor=supervisor, case=open_case, role="Witness", person_data={"prs_FirstName": "V"}
        )
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    path = f"/api/v1/helpline/contacts/{contact.pk}/people"
    linked = post_json(client, path, {"person_id": str(visible.person_id)})
    assert linked.status_code == 201
    assert linked.json()["people"] == [str(visible.person_id)]
    assert str(secret.person_id) not in linked.content.decode()
