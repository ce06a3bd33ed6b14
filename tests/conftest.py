"""Shared fixtures: two organisations with a member in every role (each with TOTP enrolled).

On PostgreSQL (TESSERA_TEST_POSTGRES) every database test runs as the application role, so row-level
security is exercised by the whole suite, not only by the dedicated tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import translation

from tessera.accounts.models import User
from tessera.accounts.services import create_user
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role
from tessera.tenancy.services import add_member, create_organisation
from tessera.vault.keys import clear_key_caches

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("TESSERA_SHARED_DIR", REPO_ROOT.parent / "shared"))
TEST_PASSWORD = "correct-horse-battery-staple-42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

ON_POSTGRES = bool(os.environ.get("TESSERA_TEST_POSTGRES"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [
        f"database: {'PostgreSQL' if ON_POSTGRES else 'SQLite (set TESSERA_TEST_POSTGRES for PostgreSQL)'}"
    ]
    if not SHARED_DIR.exists():
        lines.append(f"NOTICE: {SHARED_DIR} is absent: tests that need ../shared are skipped.")
    return lines


@pytest.fixture(autouse=True)
def _fresh_key_caches() -> Iterator[None]:
    clear_key_caches()
    yield
    clear_key_caches()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request in another language leaves it active in the thread: reset it after every test, so
    that later tests' messages do not depend on which test ran before them."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Rate limits (public reports) and other cached state never carry over between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _run_as_application_role(request: pytest.FixtureRequest) -> None:
    """On PostgreSQL, drop superuser rights for the test's transaction: RLS applies from here on."""
    if not ON_POSTGRES or "db" not in request.fixturenames:
        return
    if "transactional_db" in request.fixturenames or request.node.get_closest_marker("owner"):
        return
    request.getfixturevalue("db")
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}")


@dataclass
class World:
    """Two organisations (`a`, `b`) and, in each, one member per role."""

    a: Organisation
    b: Organisation
    users: dict[tuple[str, str], User]

    def user(self, org: Organisation, role: Role | str) -> User:
        return self.users[(org.slug, str(role))]

    def client_for(self, org: Organisation, role: Role | str) -> Client:
        client = Client()
        client.force_login(self.user(org, role))
        return client


def make_member(
    org: Organisation, role: Role | str, email: str | None = None, *, mfa: bool = True
) -> User:
    email = email or f"{role}@{org.slug}.test"
    user = create_user(email=email, password=TEST_PASSWORD, display_name=f"{role} of {org.slug}")
    add_member(org=org, user=user, role=str(role))
    if mfa:
        TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def world(db: None) -> World:
    a = create_organisation(slug="alpha", name="Alpha Helpline", shipping_country="GB")
    b = create_organisation(slug="beta", name="Beta Shelter", shipping_country="TH")
    users = {}
    for org in (a, b):
        for role in Role:
            users[(org.slug, role.value)] = make_member(org, role)
    return World(a=a, b=b, users=users)


@pytest.fixture
def org_a(world: World) -> Iterator[Organisation]:
    """Run the test body inside organisation A's context."""
    with org_context(world.a):
        yield world.a


def membership(user: User, org: Organisation) -> Membership:
    return Membership.objects.get(user=user, org=org)
