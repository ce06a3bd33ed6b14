"""The case API: HTCDS names in and out, 400 naming the field, 404 for other organisations."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tessera.accounts.tokens import create_token
from tessera.api.base import MEMBER, PERMISSION_KEY
from tessera.api.urls import api
from tessera.cases import api as cases_api
from tessera.cases.models import Case, Person
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Perm, Role, role_has_perm

from .conftest import World
from .factories import FACTORIES

DOCUMENT: dict[str, Any] = {
    "htcds_version": "2.0",
    "case": {"cas_ReasonForIncomingReferral": "Other", "sensitivity": "standard"},
    "people": [
        {
            "ref": "v",
            "role": "PotentialVictim",
            "prs_FirstName": "Lina",
            "prs_SecondName": "Petrova",
            "prs_Gender": "Feminine",
            "prs_Citizenship": ["RO"],
            "vic_TypeOfExploitation": ["SexualExploitation"],
            "vic_TraffickingStatus": "PossibleVictimOfTrafficking",
        },
        {
            "ref": "p",
            "role": "Perpetrator",
            "prs_FirstName": "Ion",
            "per_RoleInProcess": ["Transporter"],
        },
    ],
    "events": [
        {
            "hte_Type": "Exploitation",
            "hte_Country": "GB",
            "hte_Date": "2024-05-01",
            "hte_Latitude": 51.5,
        }
    ],
    "support_plans": [
        {
            "spl_Type": "Health",
            "spl_Objectives": "Recover",
            "goals": [{"description": "GP registration"}],
        }
    ],
    "comments": [{"cco_CaseComment": "First contact by phone.", "kind": "call"}],
    "consent": [
        {"ref": "v", "purpose": "care", "con_Consent": True, "evidence": "verbal, recorded"}
    ],
}


def post(client: Client, path: str, body: object) -> Any:
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def patch(client: Client, path: str, body: object) -> Any:
    return client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def test_case_crud_with_pagination_and_filters(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    created = post(client, "/cases", {"cas_ReasonForIncomingReferral": "Other"})
    assert created.status_code == 201
    case_id = created.json()["id"]
    post(client, "/cases", {})
    listing = client.get("/api/v1/cases?limit=1")
    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    assert len(listing.json()["items"]) == 1
    assert client.get("/api/v1/cases?status=Closed").json()["count"] == 0
    updated = patch(client, f"/cases/{case_id}", {"cas_IncomingReferralDetails": "from police"})
    assert updated.json()["cas_IncomingReferralDetails"] == "from police"
    assert client.get(f"/api/v1/cases/{case_id}").json()["reference"] == created.json()["reference"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/cases", {"cas_ReasonForIncomingReferral": "Boredom"}, "cas_ReasonForIncomingReferral"),
        ("/cases", {"cas_IncomingReferralDate": "2024-13-45"}, "cas_IncomingReferralDate"),
        ("/cases", {"cas_IncomingReferralDetails": ["a"]}, "cas_IncomingReferralDetails"),
        ("/people", {"prs_Birthdate": "yesterday"}, "prs_Birthdate"),
        ("/people", {"prs_NumberOfChildren": "two"}, "prs_NumberOfChildren"),
        ("/cases", {"extensions": {"b-only": "x"}}, "extensions.b-only"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_saves_nothing(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    admin_b = world.client_for(world.b, Role.ORG_ADMIN)
    assert (
        post(
            admin_b,
            "/extension-fields",
            {"entity": "case", "name": "b-only", "label": "B", "type": "text"},
        ).status_code
        == 201
    )
    response = post(world.client_for(world.a, Role.CASEWORKER), path, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    with org_context(world.a):
        assert Case.objects.count() == 0
        assert Person.objects.count() == 0


def test_htcds_document_round_trips_with_exact_names(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    created = post(client, "/htcds/cases", DOCUMENT)
    assert created.status_code == 201, created.content
    exported = client.get(f"/api/v1/htcds/cases/{created.json()['id']}").json()
    victim = next(p for p in exported["people"] if p["role"] == "PotentialVictim")
    assert victim["prs_FirstName"] == "Lina"
    assert victim["vic_TypeOfExploitation"] == ["SexualExploitation"]
    assert exported["events"][0]["hte_Latitude"] == 51.5
    assert exported["support_plans"][0]["goals"][0]["description"] == "GP registration"
    assert exported["consent"][0]["ref"] == victim["ref"]
    assert exported["comments"][0]["cco_CaseComment"] == "First contact by phone."
    schema = client.get("/api/v1/htcds/schema.json").json()
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(exported, schema)
    jsonschema.validate(DOCUMENT, schema)


def test_bad_document_names_the_path_and_saves_nothing(world: World) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    bad = json.loads(json.dumps(DOCUMENT))
    bad["events"][0]["hte_Type"] = "Holiday"
    response = post(client, "/htcds/cases", bad)
    assert response.status_code == 400
    assert "events[0].hte_Type" in response.json()["errors"]
    with org_context(world.a):
        assert Case.objects.count() == 0
        assert Person.objects.count() == 0


def test_token_auth_and_analyst_refusal(world: World) -> None:
    _token, raw = create_token(user=world.user(world.a, Role.CASEWORKER), org=world.a)
    client = Client()
    response = client.post(
        "/api/v1/cases",
        "{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201
    analyst = world.client_for(world.a, Role.ANALYST)
    assert analyst.get("/api/v1/cases").status_code == 403
    assert analyst.get("/api/v1/people").status_code == 403


# Satisfies every operation's body schema, so that only the lookup can refuse.
VALID_BODY = json.dumps({"status": "Active", "reason": "Checking another organisation's case"})


def _paths_with_parameters() -> list[tuple[str, str, str, str]]:
    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    perm = operation.get(PERMISSION_KEY, "")
                    found.append((method, path, parameter["name"], perm))
    return found


def test_every_parameterised_case_operation_has_a_factory() -> None:
    ours = [
        (p, n)
        for _m, p, n, _perm in _paths_with_parameters()
        if "/audit/" not in p and "/tokens/" not in p
    ]
    assert [key for key in ours if key not in FACTORIES] == []


def test_other_organisations_objects_are_404_on_every_operation(world: World) -> None:
    checked = 0
    for method, path, name, perm in _paths_with_parameters():
        factory = FACTORIES.get((path, name))
        if factory is None:
            continue
        url = path.replace("{" + name + "}", factory(world.a))
        for role in Role:
            client = world.client_for(world.b, role)
            if method == "get":
                response = client.get(url)
            else:
                response = getattr(client, method)(url, VALID_BODY, content_type="application/json")
            allowed = perm == MEMBER or role_has_perm(role, Perm(perm))
            assert response.status_code == (404 if allowed else 403), (method, url, role)
            checked += 1
    assert checked >= 13 * len(Role)


def test_organisation_wide_lists_count_a_bounded_distance_past_the_page(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `?case=`, parties and events are counted at most COUNT_AHEAD rows past the page (a
    lower bound, `count_exact` false); one case's rows, and every short page, exactly."""
    monkeypatch.setattr(cases_api, "COUNT_AHEAD", 2)
    client = world.client_for(world.a, Role.CASEWORKER)
    cases = [post(client, "/htcds/cases", DOCUMENT).json()["id"] for _ in range(4)]
    # Four cases of two parties and one event each: 8 parties, 4 events.
    counted = {
        path: client.get(f"/api/v1/{path}").json()
        for path in ("parties?limit=1", "parties?limit=2&offset=2", "events?limit=1")
    }
    assert [(b["count"], b["count_exact"]) for b in counted.values()] == [
        (3, False),  # limit 1 + 2 ahead
        (6, False),
        (3, False),
    ]
    assert [len(b["items"]) for b in counted.values()] == [1, 2, 1]
    exact = {
        "parties?limit=1&offset=7": (8, True),  # the last page says the total
        "events?limit=2&offset=1": (4, True),  # 4 <= 2 + 1 + 2: counted to the end
        f"parties?limit=1&case={cases[0]}": (2, True),
    }
    for path, expected in exact.items():
        body = client.get(f"/api/v1/{path}").json()
        assert (body["count"], body["count_exact"]) == expected, path
    assert client.get("/api/v1/cases?limit=1").json() == {
        **client.get("/api/v1/cases?limit=1").json(),
        "count": 4,
        "count_exact": True,
    }
