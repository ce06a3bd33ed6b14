"""The case list costs a fixed number of queries, whatever the page size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tessera.accounts.tokens import create_token
from tessera.cases.selectors import query_kinds, search_people
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .cases_helpers import actor, open_case_with_victim
from .conftest import World


@pytest.fixture
def thirty_cases(world: World) -> None:
    member = actor(world, world.a, Role.CASEWORKER)
    with org_context(world.a):
        for _ in range(30):
            open_case_with_victim(member, cas_Status="Active")


def _queries(callable_: object) -> int:
    with CaptureQueriesContext(connection) as captured:
        callable_()  # type: ignore[operator]
    return len(captured.captured_queries)


@pytest.mark.usefixtures("thirty_cases")
def test_api_case_list_queries_do_not_grow_with_the_page(
    world: World, django_assert_max_num_queries: object
) -> None:
    _token, secret = create_token(user=world.user(world.a, Role.CASEWORKER), org=world.a)
    client = world.client_for(world.a, Role.CASEWORKER)
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/cases?limit=1", headers=headers)  # the token's last use is written once
    small = _queries(lambda: client.get("/api/v1/cases?limit=1", headers=headers))
    large = _queries(lambda: client.get("/api/v1/cases?limit=30", headers=headers))
    assert large == small
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        response = client.get("/api/v1/cases?limit=30", headers=headers)
    assert len(response.json()["items"]) == 30


@pytest.mark.usefixtures("thirty_cases")
def test_web_case_list_queries_do_not_grow_with_the_page(
    world: World, django_assert_max_num_queries: object
) -> None:
    client = world.client_for(world.a, Role.CASEWORKER)
    client.get("/cases/")
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        response = client.get("/cases/")
    assert response.content.decode().count("/cases/") >= 25


@pytest.mark.parametrize(
    ("query", "kinds"),
    [
        ("1999-04-01", {"dob"}),
        ("Amina Haddad", {"name"}),
        ("O'Neil-Smith", {"name"}),
        ("+44 7700 900123", {"phone", "document"}),
        ("(020) 7946-0018", {"phone", "document"}),
        ("P-1234 567", {"document"}),
        ("AB123456", {"document"}),
    ],
)
def test_search_computes_only_the_blind_indexes_a_query_can_match(
    query: str, kinds: set[str]
) -> None:
    assert query_kinds(query) == kinds


def test_search_text_matching_no_index_finds_no_one(world: World) -> None:
    member = actor(world, world.a, Role.CASEWORKER)
    with org_context(world.a):
        open_case_with_victim(member)
        assert list(search_people(actor=member, query="!!!")) == []
        assert len(search_people(actor=member, query="+44 7700 900123")) == 1
        assert len(search_people(actor=member, query="P-1234 567")) == 1
        assert len(search_people(actor=member, query="haddad")) == 1


@pytest.mark.usefixtures("thirty_cases")
def test_api_case_list_counts_without_count_on_the_last_page(world: World) -> None:
    _token, secret = create_token(user=world.user(world.a, Role.CASEWORKER), org=world.a)
    client = world.client_for(world.a, Role.CASEWORKER)
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/cases?limit=1", headers=headers)
    for url, items in [("limit=10", 10), ("limit=10&offset=25", 5), ("limit=100", 30)]:
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"/api/v1/cases?{url}", headers=headers).json()
        counts = [q for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
        assert (len(body["items"]), body["count"]) == (items, 30)
        assert len(counts) == (1 if items == 10 else 0)
    assert client.get("/api/v1/cases?offset=40", headers=headers).json()["count"] == 30
