"""Enumerate every endpoint (web URL patterns and API operations) with the access it declares, and
build the objects its path parameters name, so the security tests cover new endpoints unedited.

A new web view declares `required_perm` or `is_public` (tenancy.views); a new API operation declares
`x-tessera-permission` or `x-tessera-public` (api.base). A new parameterised endpoint needs an entry
in `PATH_OBJECTS`, or the enumeration test fails and says which one to add.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.crypto import get_random_string

from tessera.accounts.models import ApiToken, User
from tessera.accounts.tokens import create_token
from tessera.api.base import MEMBER, PERMISSION_KEY, PUBLIC_KEY
from tessera.audit.models import AuditEvent
from tessera.audit.services import record
from tessera.tenancy.context import org_context, system_context
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Perm, Role, role_has_perm
from tessera.tenancy.scoping import tenant_models
from tessera.tenancy.services import add_member, create_organisation

from .conftest import World, make_member
from .factories import FACTORIES

API_PREFIX = "/api/v1"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WEB_METHODS = ("GET", "POST")

# Third-party pages we mount but do not write: allauth (login, MFA, password) and Django's language
# switcher. Each one is reviewed, so an upgrade that adds a page fails the enumeration until the new
# page is looked at and listed here.
THIRD_PARTY_PUBLIC = frozenset(
    {
        "account_login",
        "account_logout",
        "account_inactive",
        "account_signup",
        "account_reauthenticate",
        "account_email",
        "account_email_verification_sent",
        "account_change_password",
        "account_set_password",
        "account_reset_password",
        "account_confirm_login_code",
        "account_confirm_email",
        "account_reset_password_from_key_done",
        "account_reset_password_from_key",
        "account_reset_password_done",
        "mfa_index",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_list_webauthn",
        "mfa_add_webauthn",
        "mfa_reauthenticate_webauthn",
        "mfa_remove_webauthn",
        "mfa_edit_webauthn",
        "set_language",
    }
)
THIRD_PARTY_PREFIXES = ("accounts/", "i18n/")
# django-ninja's root of the API: it only ever answers 404 (it exists to compute the API's prefix).
NINJA_ROOT = "api:api-root"


# Pseudo-roles beside Role: not logged in, and logged in (with MFA) but a member of no organisation.
ANONYMOUS = "anonymous"
OUTSIDER = "outsider"
ACTORS: tuple[str, ...] = (ANONYMOUS, OUTSIDER, *Role.values)


@dataclass(frozen=True)
class Endpoint:
    """One web URL pattern, or one API path with its operations."""

    kind: str  # "web" or "api"
    name: str  # "web:audit_event" or "api:/api/v1/audit/events/{event_id}"
    route: str  # Django route ("audit/<int:pk>/") or OpenAPI path
    params: tuple[str, ...]
    # method → the permission it needs (Perm), None for "any member / logged in", PUBLIC when public.
    access: dict[str, Perm | str | None] = field(hash=False, compare=False)
    request_bodies: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    declared: bool = True
    problem: str = ""

    def __str__(self) -> str:
        return self.name


PUBLIC = "public"


def may_access(role: str, requirement: Perm | str | None) -> bool:
    if requirement == PUBLIC:
        return True
    if role in (ANONYMOUS, OUTSIDER):
        return False
    return requirement is None or role_has_perm(role, Perm(requirement))


# --- Web: Django's URL resolver ------------------------------------------------------------------


@dataclass(frozen=True)
class UrlEntry:
    route: str
    name: str
    callback: Callable[..., Any]
    params: tuple[str, ...]


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[UrlEntry]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            params = tuple(pattern.pattern.regex.groupindex)
            yield UrlEntry(prefix + str(pattern.pattern), name, pattern.callback, params)


def url_entries() -> list[UrlEntry]:
    return list(_walk(get_resolver().url_patterns))


def _declared_access(callback: Callable[..., Any]) -> tuple[bool, Perm | str | None]:
    for holder in (callback, getattr(callback, "view_class", None)):
        if holder is None:
            continue
        if getattr(holder, "is_public", False):
            return True, PUBLIC
        if hasattr(holder, "required_perm"):
            return True, holder.required_perm
    return False, None


def is_third_party(entry: UrlEntry) -> bool:
    return entry.route.startswith(THIRD_PARTY_PREFIXES)


def is_api(entry: UrlEntry) -> bool:
    return entry.name.startswith("api:")


def web_endpoints() -> list[Endpoint]:
    """Our own web pages (the API's patterns are enumerated through the OpenAPI document)."""
    endpoints = []
    for entry in url_entries():
        if is_third_party(entry) or is_api(entry):
            continue
        declared, requirement = _declared_access(entry.callback)
        endpoints.append(
            Endpoint(
                kind="web",
                name=entry.name,
                route=entry.route,
                params=entry.params,
                access=dict.fromkeys(WEB_METHODS, requirement),
                declared=declared,
                problem="" if declared else "declares neither required_perm nor is_public",
            )
        )
    return endpoints


# --- API: the OpenAPI document --------------------------------------------------------------------


def openapi_schema() -> dict[str, Any]:
    """The document as served to anyone (it needs no database, so it is read at collection)."""
    response = Client().get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200, f"{API_PREFIX}/openapi.json → {response.status_code}"
    schema: dict[str, Any] = response.json()
    return schema


def openapi_path_to_route(path: str) -> str:
    """ "/api/v1/tokens/{token_id}" → "api/v1/tokens/<token_id>" (django-ninja's URL pattern)."""
    return re.sub(r"\{([^}]+)\}", r"<\1>", path.lstrip("/"))


def _operation_access(operation: dict[str, Any]) -> tuple[bool, Perm | str | None, str]:
    if operation.get(PUBLIC_KEY) is True:
        return True, PUBLIC, ""
    permission = operation.get(PERMISSION_KEY)
    if permission is None:
        return False, None, f"declares neither {PERMISSION_KEY} nor {PUBLIC_KEY}"
    if permission == MEMBER:
        return True, None, ""
    if permission not in {p.value for p in Perm}:
        return False, None, f"{PERMISSION_KEY}={permission!r} is not a Perm"
    return True, Perm(permission), ""


def api_endpoints(schema: dict[str, Any] | None = None) -> list[Endpoint]:
    schema = schema if schema is not None else openapi_schema()
    endpoints = []
    for path, operations in schema["paths"].items():
        access: dict[str, Perm | str | None] = {}
        bodies: dict[str, Any] = {}
        problems = []
        params: set[str] = set()
        for method, operation in operations.items():
            declared, requirement, problem = _operation_access(operation)
            if not declared:
                problems.append(f"{method.upper()} {problem}")
            access[method.upper()] = requirement
            params |= {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            body = operation.get("requestBody")
            if body is not None:
                # Multipart uploads (imports) are enumerated too; the test sends JSON, which such an
                # operation refuses after the access check, and that is all the test needs.
                content = body["content"]
                body_schema = (content.get("application/json") or next(iter(content.values())))[
                    "schema"
                ]
                bodies[method.upper()] = minimal_value(body_schema, schema)
        endpoints.append(
            Endpoint(
                kind="api",
                name=f"api:{path.removeprefix(API_PREFIX)}",
                route=path,
                params=tuple(sorted(params)),
                access=access,
                request_bodies=bodies,
                declared=not problems,
                problem="; ".join(problems),
            )
        )
    return endpoints


def minimal_value(node: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest JSON value that a JSON schema (with OpenAPI $refs) accepts, as far as it can tell."""
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return minimal_value(target, schema)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in node:
            return minimal_value(node[combinator][0], schema)
    if "default" in node:
        return node["default"]
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type", "object")
    if kind == "object":
        properties = node.get("properties", {})
        return {key: minimal_value(properties[key], schema) for key in node.get("required", [])}
    return {
        "string": "x",
        "integer": 1,
        "number": 1,
        "boolean": False,
        "array": [],
        "null": None,
    }[kind]


def all_endpoints() -> list[Endpoint]:
    return web_endpoints() + api_endpoints()


# --- The access each endpoint was reviewed with ------------------------------------------------

# The tests above trust each endpoint's declaration; this table catches a declaration that changes
# (a permission loosened by mistake) and a new endpoint nobody has reviewed. "login" means any
# member (web: any logged-in user), "public" anyone.
REVIEWED_ACCESS: dict[str, dict[str, str]] = {
    "healthz": {"GET": "public", "POST": "public"},
    "web:home": {"GET": "login", "POST": "login"},
    "web:dashboard": {"GET": "dashboard.view", "POST": "dashboard.view"},
    "web:switch_org": {"GET": "login", "POST": "login"},
    "web:members": {"GET": "org.manage_members", "POST": "org.manage_members"},
    "web:audit_trail": {"GET": "audit.view", "POST": "audit.view"},
    "web:audit_event": {"GET": "audit.view", "POST": "audit.view"},
    "web:tokens": {"GET": "dashboard.view", "POST": "dashboard.view"},
    "web:revoke_token": {"GET": "dashboard.view", "POST": "dashboard.view"},
    "api:/me": {"GET": "login"},
    "api:/members": {"GET": "org.manage_members"},
    "api:/audit/events": {"GET": "audit.view"},
    "api:/audit/events/{event_id}": {"GET": "audit.view"},
    "api:/tokens": {"GET": "login"},
    "api:/tokens/{token_id}": {"DELETE": "login"},
    "cases:case_list": {"GET": "cases.view", "POST": "cases.view"},
    "cases:case_new": {"GET": "cases.edit", "POST": "cases.edit"},
    "cases:case_detail": {"GET": "cases.view", "POST": "cases.view"},
    "cases:case_break_glass": {"GET": "cases.break_glass", "POST": "cases.break_glass"},
    "cases:person_duplicates": {"GET": "identity.view", "POST": "identity.view"},
    "cases:person_detail": {"GET": "identity.view", "POST": "identity.view"},
    "cases:extension_fields": {
        "GET": "cases.manage_extensions",
        "POST": "cases.manage_extensions",
    },
    "cases:extension_field_edit": {
        "GET": "cases.manage_extensions",
        "POST": "cases.manage_extensions",
    },
    "releases:release_list": {"GET": "insights.view", "POST": "insights.view"},
    "releases:release_decide": {
        "GET": "insights.approve_release",
        "POST": "insights.approve_release",
    },
    "releases:release_download": {"GET": "insights.view", "POST": "insights.view"},
    "exchange:import_list": {"GET": "exchange.import", "POST": "exchange.import"},
    "exchange:import_detail": {"GET": "exchange.import", "POST": "exchange.import"},
    "exchange:import_commit": {"GET": "exchange.import", "POST": "exchange.import"},
    "exchange:import_report": {"GET": "exchange.import", "POST": "exchange.import"},
    "exchange:export": {"GET": "cases.view", "POST": "cases.view"},
    "api:/imports": {"POST": "exchange.import"},
    "api:/imports/{job_id}": {"GET": "exchange.import"},
    "api:/imports/{job_id}/commit": {"POST": "exchange.import"},
    "api:/imports/{job_id}/report.csv": {"GET": "exchange.import"},
    "api:/exports": {"POST": "cases.view"},
    "api:/exports/ctdc": {"POST": "insights.view"},
    "api:/cases": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/cases/{case_id}": {"GET": "cases.view", "PATCH": "cases.edit"},
    "api:/cases/{case_id}/status": {"POST": "cases.edit"},
    "api:/cases/{case_id}/closure": {"POST": "cases.edit"},
    "api:/cases/{case_id}/closure/approve": {"POST": "cases.approve_closure"},
    "api:/cases/{case_id}/break-glass": {"POST": "cases.break_glass"},
    "api:/people": {"GET": "identity.view", "POST": "identity.view"},
    "api:/people/{person_id}": {"GET": "identity.view", "PATCH": "identity.view"},
    "api:/parties": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/parties/{party_id}": {"GET": "cases.view", "PATCH": "cases.edit"},
    "api:/events": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/events/{event_id}": {"GET": "cases.view", "PATCH": "cases.edit"},
    "api:/support-plans": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/support-plans/{plan_id}": {"GET": "cases.view", "PATCH": "cases.edit"},
    "api:/notes": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/notes/{note_id}": {"GET": "cases.view"},
    "api:/consents": {"GET": "cases.view", "POST": "cases.edit"},
    "api:/consents/{consent_id}": {"GET": "cases.view"},
    "api:/extension-fields": {"GET": "cases.view", "POST": "cases.manage_extensions"},
    "api:/extension-fields/{field_id}": {"PATCH": "cases.manage_extensions"},
    "api:/htcds/schema.json": {"GET": "public"},
    "api:/htcds/cases": {"POST": "cases.edit"},
    "api:/htcds/cases/{case_id}": {"GET": "cases.view"},
    "api:/releases": {"GET": "insights.view", "POST": "insights.view"},
    "api:/releases/{release_id}": {"GET": "insights.view"},
    "api:/releases/{release_id}/approve": {"POST": "insights.approve_release"},
    "api:/releases/{release_id}/reject": {"POST": "insights.approve_release"},
    "api:/releases/{release_id}/download": {"GET": "insights.view"},
}


def access_summary(endpoint: Endpoint) -> dict[str, str]:
    def word(requirement: Perm | str | None) -> str:
        if requirement is None:
            return "login"
        return str(requirement)

    return {method: word(requirement) for method, requirement in endpoint.access.items()}


# --- Objects named by path parameters --------------------------------------------------------------


@dataclass
class Target:
    """An object a path parameter names; `state` reads it back (to prove a refused write changed
    nothing)."""

    label: str
    pk: int
    state: Callable[[], object]


class PathObjects:
    """Builds, for a member acting in org A, one object of theirs and the objects they must never
    reach (another organisation's, another member's)."""

    def own(self, world: World, user: User) -> Target:
        raise NotImplementedError

    def foreign(self, world: World, user: User) -> list[Target]:
        raise NotImplementedError


def _event_state(org: Organisation | None, pk: int) -> Callable[[], object]:
    def state() -> object:
        if org is None:
            with system_context():
                return list(AuditEvent.objects.filter(pk=pk).values_list("hash", flat=True))
        with org_context(org):
            return list(AuditEvent.objects.filter(pk=pk).values_list("hash", flat=True))

    return state


class AuditEvents(PathObjects):
    def own(self, world: World, user: User) -> Target:
        with org_context(world.a):
            event = record(action="test.own", object_type="Test", object_id=1)
        return Target("own organisation's event", event.pk, _event_state(world.a, event.pk))

    def foreign(self, world: World, user: User) -> list[Target]:
        with org_context(world.b):
            other_org = record(action="test.foreign", object_type="Test", object_id=1)
        with system_context():
            system = record(action="test.system", object_type="Test", object_id=1)
        return [
            Target("event of organisation B", other_org.pk, _event_state(world.b, other_org.pk)),
            Target("event of the system chain", system.pk, _event_state(None, system.pk)),
        ]


def _token_state(pk: int) -> Callable[[], object]:
    return lambda: ApiToken.objects.filter(pk=pk).values_list("revoked_at", flat=True).first()


class ApiTokens(PathObjects):
    def own(self, world: World, user: User) -> Target:
        token, _secret = create_token(user=user, org=world.a, name="own")
        return Target("own token", token.pk, _token_state(token.pk))

    def foreign(self, world: World, user: User) -> list[Target]:
        role = next(m.role for m in user.memberships.all())
        colleague_role = Role.AUDITOR if role != Role.AUDITOR else Role.ANALYST
        colleague, _ = create_token(user=world.user(world.a, colleague_role), org=world.a)
        other_org, _ = create_token(user=world.user(world.b, role), org=world.b)
        # The acting user's own token for B (they are a member there too) is B's object while
        # they act in A.
        add_member(org=world.b, user=user, role=role)
        own_in_b, _ = create_token(user=user, org=world.b)
        return [
            Target("a colleague's token", colleague.pk, _token_state(colleague.pk)),
            Target("token of a member of organisation B", other_org.pk, _token_state(other_org.pk)),
            Target("own token for organisation B", own_in_b.pk, _token_state(own_in_b.pk)),
        ]


AUDIT_EVENTS = AuditEvents()
API_TOKENS = ApiTokens()

# Keyed "endpoint:parameter" first, then by the parameter alone (only for names that say which
# model they mean: a bare `pk` or `id` is never resolved by name).
PATH_OBJECTS: dict[str, PathObjects] = {
    "web:audit_event:pk": AUDIT_EVENTS,
    "web:revoke_token:pk": API_TOKENS,
    "api:/audit/events/{event_id}:event_id": AUDIT_EVENTS,
    "token_id": API_TOKENS,
}
AMBIGUOUS_PARAMS = frozenset({"pk", "id", "slug", "uuid"})


class FactoryObjects(PathObjects):
    """Objects from the domain apps' factories (tests/factories.py): one made in the acting
    member's organisation, one in organisation B."""

    def __init__(self, factory: Callable[[Organisation], str]) -> None:
        self.factory = factory

    def own(self, world: World, user: User) -> Target:
        pk = self.factory(world.a)
        return Target("own organisation's object", pk, _row_state(world.a, pk))  # type: ignore[arg-type]

    def foreign(self, world: World, user: User) -> list[Target]:
        pk = self.factory(world.b)
        return [Target("object of organisation B", pk, _row_state(world.b, pk))]  # type: ignore[arg-type]


def _row_state(org: Organisation, pk: str) -> Callable[[], object]:
    """Every tenant row with this primary key, as stored: unchanged means nothing was written."""

    def state() -> object:
        rows = []
        with org_context(org):
            for model in tenant_models():
                try:
                    rows.extend(model._default_manager.filter(pk=pk).values())
                except (ValidationError, ValueError, TypeError):
                    continue
        return rows

    return state


def path_objects(endpoint: Endpoint, param: str) -> PathObjects | None:
    found = PATH_OBJECTS.get(f"{endpoint.name}:{param}")
    if found is not None:
        return found
    key = (
        API_PREFIX + endpoint.name.removeprefix("api:") if endpoint.kind == "api" else endpoint.name
    )
    factory = FACTORIES.get((key, param))
    if factory is not None:
        return FactoryObjects(factory)
    return None if param in AMBIGUOUS_PARAMS else PATH_OBJECTS.get(param)


# --- Clients ---------------------------------------------------------------------------------------


def csrf_client(user: User | None) -> tuple[Client, str]:
    """A client that enforces CSRF like a browser, and the token a page would have given it."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return client, secret


# --- A world shared by a module's tests ------------------------------------------------------------


def build_world() -> World:
    """The same two organisations and members as conftest's `world`."""
    a = create_organisation(slug="alpha", name="Alpha Helpline", shipping_country="GB")
    b = create_organisation(slug="beta", name="Beta Shelter", shipping_country="TH")
    users = {(org.slug, role.value): make_member(org, role) for org in (a, b) for role in Role}
    return World(a=a, b=b, users=users)


@pytest.fixture(scope="module")
def module_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once per module inside a transaction that is rolled back at the end; each test runs in
    a savepoint inside it (pytest-django's `db`), so tests still see only their own changes."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


# Domain apps register their own objects and reviewed access (imported last: they build on the
# classes above).
from .helpline_walls import HELPLINE_PATH_OBJECTS, HELPLINE_REVIEWED_ACCESS  # noqa: E402

PATH_OBJECTS.update(HELPLINE_PATH_OBJECTS)
REVIEWED_ACCESS.update(HELPLINE_REVIEWED_ACCESS)
