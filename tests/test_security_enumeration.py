"""Every endpoint by every role: who may use it, and that no organisation reaches another's objects.

The endpoints come from Django's URL resolver and from the OpenAPI document, so a new page or API
operation is covered without editing this file; one that declares no permission fails here, and so
does a new path parameter without an object factory in tests/walls.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tessera.accounts.models import User
from tessera.accounts.tokens import create_token
from tessera.audit.models import AuditEvent
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .conftest import World, make_member
from .walls import (
    ACTORS,
    ANONYMOUS,
    NINJA_ROOT,
    OUTSIDER,
    PUBLIC,
    REVIEWED_ACCESS,
    THIRD_PARTY_PUBLIC,
    UNSAFE_METHODS,
    Endpoint,
    Target,
    UrlEntry,
    access_summary,
    api_endpoints,
    csrf_client,
    is_api,
    is_third_party,
    may_access,
    openapi_path_to_route,
    openapi_schema,
    path_objects,
    url_entries,
    web_endpoints,
)
from .walls import module_world as module_world

URLS = url_entries()
SCHEMA = openapi_schema()
ENDPOINTS = web_endpoints() + api_endpoints(SCHEMA)
PARAMETERISED = [e for e in ENDPOINTS if e.params]
API_ROUTES = {openapi_path_to_route(path) for path in SCHEMA["paths"]}
NINJA_DOCS = frozenset({"api:openapi-json", "api:openapi-view"})


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """One world per module: hundreds of tests read it; each one's changes are rolled back."""
    return module_world


def _ids(value: object) -> str:
    return str(value)


# --- Every endpoint declares who may use it -------------------------------------------------------


@pytest.mark.parametrize("entry", URLS, ids=lambda e: e.name)
def test_every_url_pattern_declares_who_may_use_it(entry: UrlEntry) -> None:
    if is_third_party(entry):
        assert entry.name in THIRD_PARTY_PUBLIC, (
            f"{entry.route} ({entry.name}) is a new third-party page: review who may reach it and "
            "add it to THIRD_PARTY_PUBLIC in tests/walls.py"
        )
    elif entry.name in NINJA_DOCS:
        assert getattr(entry.callback, "is_public", False), (
            f"{entry.name} must be marked public deliberately (NinjaAPI(docs_decorator=public))"
        )
    elif entry.name == NINJA_ROOT:
        assert entry.route == "api/v1/"
    elif is_api(entry):
        assert entry.route in API_ROUTES, f"{entry.route} is served but not in the OpenAPI document"
    else:
        endpoint = next(e for e in ENDPOINTS if e.name == entry.name)
        assert endpoint.declared, f"{entry.route} ({entry.name}) {endpoint.problem}"


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.kind == "api"], ids=_ids)
def test_every_api_operation_declares_a_permission_or_public(endpoint: Endpoint) -> None:
    assert endpoint.declared, f"{endpoint.route}: {endpoint.problem}"
    assert endpoint.access, f"{endpoint.route} has no operations"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
def test_declared_access_is_the_reviewed_one(endpoint: Endpoint) -> None:
    assert endpoint.name in REVIEWED_ACCESS, (
        f"{endpoint.route} is new: review who may use it and record it in REVIEWED_ACCESS "
        f"(tests/walls.py) as {access_summary(endpoint)}"
    )
    assert access_summary(endpoint) == REVIEWED_ACCESS[endpoint.name], (
        f"{endpoint.route} changed its declared access: if intended, update REVIEWED_ACCESS"
    )


def test_reviewed_access_names_only_existing_endpoints() -> None:
    assert set(REVIEWED_ACCESS) - {e.name for e in ENDPOINTS} == set()


def test_third_party_allow_list_names_only_mounted_pages() -> None:
    mounted = {entry.name for entry in URLS if is_third_party(entry)}
    assert THIRD_PARTY_PUBLIC - mounted == set()


@pytest.mark.parametrize("endpoint", PARAMETERISED, ids=_ids)
def test_every_path_parameter_has_an_object_factory(endpoint: Endpoint) -> None:
    missing = [param for param in endpoint.params if path_objects(endpoint, param) is None]
    assert not missing, (
        f"{endpoint.route}: add a PathObjects factory for {missing} to PATH_OBJECTS in "
        "tests/walls.py, keyed '{endpoint}:{param}'"
    )


def test_the_served_openapi_document_is_the_enumerated_one(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"] == SCHEMA["paths"]


@pytest.mark.parametrize("actor", [ANONYMOUS, Role.ORG_ADMIN.value])
def test_the_api_root_answers_404_to_everyone(world: World, actor: str) -> None:
    client = Client()
    if actor != ANONYMOUS:
        client.force_login(world.user(world.a, actor))
    assert client.get("/api/v1/").status_code == 404


# --- Helpers ---------------------------------------------------------------------------------------


def _actor_user(world: World, actor: str) -> User | None:
    if actor == ANONYMOUS:
        return None
    if actor == OUTSIDER:
        user = make_member(world.a, Role.CASEWORKER, email="outsider@nowhere.test")
        user.memberships.all().delete()
        return user
    return world.user(world.a, actor)


def _path(endpoint: Endpoint, values: dict[str, int]) -> str:
    if endpoint.kind == "web":
        return reverse(endpoint.name, kwargs=values)
    path = endpoint.route
    for param, value in values.items():
        path = path.replace("{" + param + "}", str(value))
    return path


def _own_objects(world: World, endpoint: Endpoint, user: User | None) -> dict[str, Target]:
    owner = user if user is not None and user.memberships.exists() else None
    owner = owner or world.user(world.a, Role.ORG_ADMIN)
    targets = {}
    for param in endpoint.params:
        objects = path_objects(endpoint, param)
        if objects is None:
            pytest.fail(f"{endpoint.route}: no PathObjects factory for {param!r} (tests/walls.py)")
        targets[param] = objects.own(world, owner)
    return targets


class Transports:
    """One client per way of calling, built on first use and reused for the test's requests."""

    def __init__(self, world: World, user: User | None) -> None:
        self.world = world
        self.user = user
        self._built: dict[str, tuple[Client, dict[str, str], str]] = {}

    def get(self, transport: str) -> tuple[Client, dict[str, str], str]:
        """transport: "session" (CSRF enforced, token sent), "session-no-csrf", or "bearer"."""
        if transport not in self._built:
            if transport == "bearer":
                assert self.user is not None
                _token, secret = create_token(user=self.user, org=self.world.a, name="walls")
                self._built[transport] = (Client(), {"Authorization": f"Bearer {secret}"}, "")
            else:
                client, csrf = csrf_client(self.user)
                self._built[transport] = (
                    client,
                    {},
                    "" if transport == "session-no-csrf" else csrf,
                )
        return self._built[transport]


def _send(
    endpoint: Endpoint, method: str, path: str, transports: Transports, transport: str
) -> HttpResponse:
    client, base_headers, csrf = transports.get(transport)
    headers = dict(base_headers)
    if endpoint.kind == "web":
        if method == "GET":
            return client.get(path, headers=headers)
        data = {"csrfmiddlewaretoken": csrf} if csrf else {}
        return client.post(path, data, headers=headers)
    if csrf:
        headers["X-CSRFToken"] = csrf
    body = endpoint.request_bodies.get(method)
    return client.generic(
        method,
        path,
        data=json.dumps(body) if body is not None else "",
        content_type="application/json",
        headers=headers,
    )


def _is_login_redirect(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse(settings.LOGIN_URL)
    )


@pytest.fixture(scope="module")
def canaries(module_world: World, django_db_blocker: Any) -> list[str]:
    """Strings that only organisation B's data contains: none may appear in A's responses."""
    world = module_world
    with django_db_blocker.unblock():
        token, _ = create_token(user=world.user(world.b, Role.ORG_ADMIN), org=world.b)
        with org_context(world.b):
            hashes = list(AuditEvent.objects.values_list("hash", flat=True))
    return [world.b.name, f"@{world.b.slug}.test", token.prefix, *hashes]


def _transports(endpoint: Endpoint, actor: str) -> list[str]:
    if endpoint.kind == "web":
        return ["session"]
    if actor in (ANONYMOUS, OUTSIDER):
        return ["session"]
    return ["session", "bearer"]


# --- Who may use each endpoint ------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
def test_each_role_gets_exactly_the_access_its_permissions_allow(
    world: World, canaries: list[str], endpoint: Endpoint, actor: str
) -> None:
    if not endpoint.declared:
        pytest.fail(f"{endpoint.route}: {endpoint.problem}")
    user = _actor_user(world, actor)
    targets = _own_objects(world, endpoint, user)
    path = _path(endpoint, {param: target.pk for param, target in targets.items()})
    transports = Transports(world, user)
    login_redirects = 0
    for method, requirement in endpoint.access.items():
        for transport in _transports(endpoint, actor):
            response = _send(endpoint, method, path, transports, transport)
            status = response.status_code
            where = f"{method} {path} as {actor} ({transport}) → {status}"
            assert status < 500, where
            if requirement == PUBLIC:
                # Public means no login is asked for; a public form may still refuse what it is
                # sent (400 for an empty report, 403 for a form it did not render, 404 for an
                # organisation that does not exist).
                assert status not in (401, 429) and not _is_login_redirect(response), where
            elif actor == ANONYMOUS and endpoint.kind == "web":
                assert _is_login_redirect(response) or status == 405, where
                login_redirects += _is_login_redirect(response)
            elif actor in (ANONYMOUS, OUTSIDER) and endpoint.kind == "api":
                assert status == 401, where
            elif actor == OUTSIDER:
                assert not (200 <= status < 300) or requirement is None, where
                if requirement is not None:
                    assert status in (403, 404, 405), where
            elif may_access(actor, requirement):
                assert status not in (401, 403), where
                assert not _is_login_redirect(response), where
            else:
                assert status == 403, where
            if method == "GET" and status == 200:
                body = response.content.decode()
                leaked = [canary for canary in canaries if canary in body]
                assert not leaked, f"{where} shows organisation B's data: {leaked}"
    if actor == ANONYMOUS and endpoint.kind == "web" and PUBLIC not in endpoint.access.values():
        assert login_redirects, f"{endpoint.route}: anonymous visitors are not sent to log in"


# --- No organisation reaches another's objects ------------------------------------------------


def _assert_unchanged(target: Target, before: object, where: str) -> None:
    assert target.state() == before, f"{where}: {target.label} was changed"


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("endpoint", PARAMETERISED, ids=_ids)
def test_other_organisations_objects_are_never_readable_or_writable(
    world: World, endpoint: Endpoint, role: str
) -> None:
    user = world.user(world.a, role)
    foreign: dict[str, list[Target]] = {}
    own: dict[str, Target] = {}
    for param in endpoint.params:
        objects = path_objects(endpoint, param)
        if objects is None:
            pytest.fail(f"{endpoint.route}: no PathObjects factory for {param!r} (tests/walls.py)")
        own[param] = objects.own(world, user)
        foreign[param] = objects.foreign(world, user)
    transports = Transports(world, user)
    checked = 0
    for param, targets in foreign.items():
        for target in targets:
            values = {p: t.pk for p, t in own.items()} | {param: target.pk}
            path = _path(endpoint, values)
            for method, requirement in endpoint.access.items():
                for transport in _transports(endpoint, role):
                    before = target.state()
                    response = _send(endpoint, method, path, transports, transport)
                    where = f"{method} {path} ({target.label}) as {role} ({transport})"
                    expected: tuple[int, ...] = (
                        (404,) if may_access(role, requirement) else (403, 404)
                    )
                    if endpoint.kind == "web":
                        # A method the page does not accept is refused before any lookup.
                        expected = (*expected, 405)
                    assert response.status_code in expected, f"{where} → {response.status_code}"
                    _assert_unchanged(target, before, where)
                    checked += 1
    assert checked


# --- Session writes need a CSRF token ---------------------------------------------------------


def _unsafe(endpoint: Endpoint) -> list[str]:
    return [m for m in endpoint.access if m in UNSAFE_METHODS]


def _public_api(endpoint: Endpoint) -> bool:
    # Public API operations (partner apps' reports) take no session: there is no ambient
    # authority for a forged request to borrow, and a browser session is ignored.
    return endpoint.kind == "api" and PUBLIC in endpoint.access.values()


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if _unsafe(e) and not _public_api(e)], ids=_ids
)
def test_session_writes_without_a_csrf_token_are_refused(world: World, endpoint: Endpoint) -> None:
    user = world.user(world.a, Role.ORG_ADMIN)
    targets = _own_objects(world, endpoint, user)
    path = _path(endpoint, {param: target.pk for param, target in targets.items()})
    before = {param: target.state() for param, target in targets.items()}
    transports = Transports(world, user)
    for method in _unsafe(endpoint):
        response = _send(endpoint, method, path, transports, "session-no-csrf")
        assert response.status_code == 403, f"{method} {path} without CSRF → {response.status_code}"
    assert {param: target.state() for param, target in targets.items()} == before
