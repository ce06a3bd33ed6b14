"""Extension fields: an org admin defines and changes them on a page; they appear in the forms of
their record, are validated there like HTCDS fields, and travel in exports under their own names."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tessera.audit.models import AuditEvent
from tessera.cases import services
from tessera.cases.models import Case, CaseParty, ExtensionField, Person, TraffickingEvent
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .cases_helpers import actor
from .conftest import World

PAGE = "/cases/extension-fields/"


def _define(world: World, **field: Any) -> ExtensionField:
    admin = actor(world, world.a, Role.ORG_ADMIN)
    field = {"entity": "case", "label": "A field", "type": "text", **field}
    return services.define_extension_field(actor=admin, **field)


def _fields(world: World) -> list[tuple[str, str]]:
    with org_context(world.a):
        return list(ExtensionField.objects.values_list("entity", "name"))


def _open(client: Client, **data: Any) -> str:
    response = client.post("/cases/new/", {"sensitivity": "standard", **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"]).split("/")[2]


def test_an_org_admin_adds_a_picklist_field_on_the_page(world: World) -> None:
    client = world.client_for(world.a, Role.ORG_ADMIN)
    page = client.get(PAGE).content.decode()
    assert '<label for="x-name">' in page and 'name="choices"' in page
    response = client.post(
        PAGE,
        {
            "entity": "person",
            "name": "safe-contact-time",
            "label": "Safe time to call",
            "type": "picklist",
            "choices": "Morning\n\nEvening\nMorning\n",
            "is_required": "on",
        },
    )
    assert response.status_code == 302
    with org_context(world.a):
        field = ExtensionField.objects.get(name="safe-contact-time")
        assert AuditEvent.objects.filter(action="extension.define").count() == 1
    assert (field.entity, field.choices, field.is_required) == (
        "person",
        ["Morning", "Evening"],
        True,
    )
    assert "Safe time to call" in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("post", "field"),
    [
        ({"name": "cas_Status"}, "name"),
        ({"name": "Intake"}, "name"),
        ({"name": ""}, "name"),
        ({"label": "  "}, "label"),
        ({"type": "colour"}, "type"),
        ({"entity": "contact"}, "entity"),
        ({"type": "picklist", "choices": ""}, "choices"),
        ({"type": "text", "choices": "a\nb"}, "choices"),
        ({"type": "picklist", "choices": "x" * 101}, "choices"),
        ({"name": "taken"}, "name"),
        ({"entity": "party", "name": "shared-name"}, "name"),
    ],
)
def test_a_bad_definition_is_refused_next_to_its_field_and_saves_nothing(
    world: World, post: dict[str, str], field: str
) -> None:
    _define(world, name="taken")
    _define(world, entity="person", name="shared-name")
    before = _fields(world)
    client = world.client_for(world.a, Role.ORG_ADMIN)
    data = {"entity": "case", "name": "new-field", "label": "New", "type": "text", **post}
    response = client.post(PAGE, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="x-{field}-err"' in html
    assert 'aria-invalid="true"' in html
    assert _fields(world) == before


def test_htmx_submissions_swap_the_form_or_redirect(world: World) -> None:
    client = world.client_for(world.a, Role.ORG_ADMIN)
    bad = client.post(
        PAGE, {"entity": "case", "name": "x_y", "label": "", "type": "text"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 200
    html = bad.content.decode()
    assert html.startswith('<section id="extension-form"') and "<html" not in html
    assert 'id="x-name-err"' in html and 'id="x-label-err"' in html
    good = client.post(
        PAGE,
        {"entity": "case", "name": "intake", "label": "Intake", "type": "text"},
        HTTP_HX_REQUEST="true",
    )
    assert good.status_code == 200
    assert good["HX-Redirect"] == PAGE


def test_a_field_gains_values_and_retires_but_keeps_its_name_and_type(world: World) -> None:
    field = _define(world, name="channel", type="picklist", choices=["web"])
    client = world.client_for(world.a, Role.ORG_ADMIN)
    url = f"{PAGE}{field.pk}/"
    assert "channel" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "label": "Intake channel",
            "add_choices": "phone\nweb",
            "is_active": "on",
            "name": "renamed",
            "type": "text",
        },
    )
    assert response.status_code == 302
    with org_context(world.a):
        field.refresh_from_db()
    assert (field.name, field.type, field.label) == ("channel", "picklist", "Intake channel")
    assert field.choices == ["web", "phone"]
    assert client.post(url, {"label": "Intake channel"}).status_code == 302  # unchecked: retired
    with org_context(world.a):
        field.refresh_from_db()
        assert not field.is_active
        assert AuditEvent.objects.filter(action="extension.update").count() == 2
    text_field = _define(world, name="notes-ref")
    refused = client.post(f"{PAGE}{text_field.pk}/", {"label": "", "add_choices": "a"})
    assert refused.status_code == 400


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CASEWORKER, Role.ANALYST])
def test_only_org_admins_reach_the_page(world: World, role: Role) -> None:
    client = world.client_for(world.a, role)
    assert client.get(PAGE).status_code == 403
    assert (
        client.post(PAGE, {"entity": "case", "name": "x", "label": "x", "type": "text"}).status_code
        == 403
    )
    assert _fields(world) == []


def test_fields_appear_in_the_forms_of_their_record(world: World) -> None:
    _define(world, name="intake-channel", type="picklist", choices=["web", "phone"])
    _define(world, entity="person", name="safe-time", type="picklist", choices=["Morning"])
    _define(world, entity="party", name="referred-by-police", type="checkbox")
    _define(world, entity="event", name="venue-kind", type="text")
    _define(world, entity="plan", name="funding", type="number")
    retired = _define(world, entity="event", name="old-field")
    with org_context(world.a):
        services.update_extension_field(
            actor=actor(world, world.a, Role.ORG_ADMIN), field=retired, is_active=False
        )
    client = world.client_for(world.a, Role.CASEWORKER)
    assert 'name="extensions.intake-channel"' in client.get("/cases/").content.decode()
    assert 'name="extensions.intake-channel"' in client.get("/cases/new/").content.decode()
    case_id = _open(client, **{"extensions.intake-channel": "web"})
    page = f"/cases/{case_id}/"
    people = client.get(page).content.decode()
    assert 'name="extensions.safe-time"' in people
    assert 'name="extensions.referred-by-police"' in people
    events = client.get(f"{page}?tab=events").content.decode()
    assert 'name="extensions.venue-kind"' in events and "old-field" not in events
    assert 'name="extensions.funding"' in client.get(f"{page}?tab=plan").content.decode()
    details = client.get(f"{page}?tab=details").content.decode()
    assert 'name="extensions.intake-channel"' in details
    assert '<option value="web" selected>' in details


def test_form_values_are_validated_and_saved_under_their_names(world: World) -> None:
    _define(world, entity="person", name="safe-time", type="picklist", choices=["Morning"])
    _define(world, entity="party", name="referred-by-police", type="checkbox")
    _define(world, entity="event", name="venue-count", type="number", is_required=True)
    client = world.client_for(world.a, Role.CASEWORKER)
    page = f"/cases/{_open(client)}/"
    person = {
        "action": "add_party",
        "role": "PotentialVictim",
        "prs_FirstName": "Mira",
        "extensions.safe-time": "Midnight",
        "extensions.referred-by-police": "on",
    }
    refused = client.post(page, person)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'id="f-extensions.safe-time-err"' in html
    assert (
        '<input id="f-extensions.referred-by-police" name="extensions.referred-by-police" type="checkbox" checked>'
        in html
    )
    with org_context(world.a):
        assert Person.objects.count() == 0
    assert client.post(page, {**person, "extensions.safe-time": "Morning"}).status_code == 302
    event = {"action": "record_event", "tab": "events", "hte_Type": "Transit"}
    missing = client.post(page, event)
    assert missing.status_code == 400
    assert 'id="f-extensions.venue-count-err"' in missing.content.decode()
    assert client.post(page, {**event, "extensions.venue-count": "3"}).status_code == 302
    with org_context(world.a):
        assert Person.objects.get().extensions == {"safe-time": "Morning"}
        assert CaseParty.objects.get().extensions == {"referred-by-police": True}
        assert TraffickingEvent.objects.get().extensions == {"venue-count": 3}


def test_a_required_case_field_is_asked_when_opening_and_can_be_changed(world: World) -> None:
    _define(
        world, name="intake-channel", type="picklist", choices=["web", "phone"], is_required=True
    )
    _define(world, name="note-ref", type="text")
    client = world.client_for(world.a, Role.CASEWORKER)
    refused = client.post("/cases/new/", {"sensitivity": "standard"})
    assert refused.status_code == 400
    assert 'id="f-extensions.intake-channel-err"' in refused.content.decode()
    case_id = _open(client, **{"extensions.intake-channel": "web", "extensions.note-ref": "R-1"})
    details = {
        "action": "update_case",
        "tab": "details",
        "cas_ReferringOrganisation": "Police",
        "extensions.intake-channel": "phone",
        "extensions.note-ref": "",
    }
    assert client.post(f"/cases/{case_id}/", details).status_code == 302
    with org_context(world.a):
        case = Case.objects.get(pk=case_id)
        update = AuditEvent.objects.filter(action="case.update").get()
    assert case.extensions == {"intake-channel": "phone"}
    assert case.referring_organisation == "Police"
    assert sorted(update.fields) == [
        "cas_ReferringOrganisation",
        "extensions.intake-channel",
        "extensions.note-ref",
    ]


def test_exports_carry_values_under_their_own_names_and_import_them_back(world: World) -> None:
    _define(world, name="intake-channel", type="picklist", choices=["web"])
    _define(world, entity="person", name="safe-time", type="text")
    _define(world, entity="party", name="referred-by-police", type="checkbox")
    client = world.client_for(world.a, Role.CASEWORKER)
    case_id = _open(client, **{"extensions.intake-channel": "web"})
    client.post(
        f"/cases/{case_id}/",
        {
            "action": "add_party",
            "role": "Victim",
            "prs_FirstName": "Lina",
            "extensions.safe-time": "after 6pm",
            "extensions.referred-by-police": "on",
        },
    )
    document = client.get(f"/api/v1/htcds/cases/{case_id}").json()
    assert document["case"]["extensions"] == {"intake-channel": "web"}
    assert document["people"][0]["extensions"] == {
        "safe-time": "after 6pm",
        "referred-by-police": True,
    }
    for entry in [document["case"], *document["people"]]:
        entry.pop("id", None)
    created = client.post(
        "/api/v1/htcds/cases", json.dumps(document), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    with org_context(world.a):
        copy = Case.objects.get(pk=created.json()["id"])
        party = copy.parties.select_related("person").get()
    assert copy.extensions == {"intake-channel": "web"}
    assert party.person.extensions == {"safe-time": "after 6pm"}
    assert party.extensions == {"referred-by-police": True}


def test_the_api_changes_a_field_like_the_page(world: World) -> None:
    field = _define(world, name="channel", type="picklist", choices=["web"])
    client = world.client_for(world.a, Role.ORG_ADMIN)
    url = f"/api/v1/extension-fields/{field.pk}"
    response = client.patch(
        url, {"label": "Channel", "add_choices": ["phone"]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["choices"] == ["web", "phone"]
    refused = client.patch(url, {"label": " "}, content_type="application/json")
    assert refused.status_code == 400
    assert "label" in refused.json()["errors"]
    other = world.client_for(world.b, Role.ORG_ADMIN)
    assert other.patch(url, {"label": "x"}, content_type="application/json").status_code == 404
    with org_context(world.a):
        field.refresh_from_db()
    assert field.label == "Channel"
