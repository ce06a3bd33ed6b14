"""API tokens: one organisation each, stored only as a hash, refused once revoked or orphaned."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tessera.accounts.models import ApiToken, User
from tessera.accounts.tokens import TokenError, create_token, revoke_token
from tessera.audit.models import AuditEvent
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Role
from tessera.tenancy.services import add_member, deactivate_member

from .conftest import World, make_member, membership
from .support import csrf_token_from
from .walls import module_world as module_world


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """One world per module (each test's changes are rolled back)."""
    return module_world


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def _events(org: Organisation, action: str) -> list[AuditEvent]:
    with org_context(org):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- One organisation per token -------------------------------------------------------------------


@pytest.fixture
def two_org_admin(world: World) -> User:
    """An org admin in both A and B."""
    user = make_member(world.a, Role.ORG_ADMIN, email="both@network.test")
    add_member(org=world.b, user=user, role=Role.ORG_ADMIN)
    return user


@pytest.mark.parametrize("org_name", ["a", "b"])
def test_a_token_acts_in_its_own_organisation_only(
    world: World, two_org_admin: User, org_name: str
) -> None:
    org, other = (world.a, world.b) if org_name == "a" else (world.b, world.a)
    _token, secret = create_token(user=two_org_admin, org=org)
    client = bearer(secret)

    assert client.get("/api/v1/me").json()["org"] == org.slug
    members = {m["email"] for m in client.get("/api/v1/members").json()["items"]}
    assert members == {u.email for (slug, _), u in world.users.items() if slug == org.slug} | {
        two_org_admin.email
    }
    with org_context(other):
        foreign_event = AuditEvent.objects.order_by("-seq").first()
    assert foreign_event is not None
    assert client.get(f"/api/v1/audit/events/{foreign_event.pk}").status_code == 404
    event_ids = {e["id"] for e in client.get("/api/v1/audit/events?limit=100").json()["items"]}
    with org_context(org):
        assert event_ids == set(AuditEvent.objects.values_list("pk", flat=True))


def test_a_token_ignores_the_organisation_chosen_in_the_session(
    world: World, two_org_admin: User
) -> None:
    _token, secret = create_token(user=two_org_admin, org=world.a)
    client = bearer(secret)
    client.force_login(two_org_admin)
    session = client.session
    session["tessera_org_id"] = world.b.pk
    session.save()
    assert client.get("/api/v1/me").json()["org"] == world.a.slug


def test_a_token_cannot_be_created_for_an_organisation_one_does_not_belong_to(
    world: World,
) -> None:
    with pytest.raises(TokenError):
        create_token(user=world.user(world.a, Role.CASEWORKER), org=world.b)
    assert not ApiToken.objects.filter(org=world.b).exists()


# --- Only the hash is stored --------------------------------------------------------------------


def _every_stored_value() -> list[str]:
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return values


@pytest.mark.owner
def test_the_database_stores_the_tokens_hash_never_the_token(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    token, secret = create_token(user=user, org=world.a, name="telephony")
    # Use it once, so that every write a request makes is in the database too.
    assert bearer(secret).get("/api/v1/me").status_code == 200

    body = secret.removeprefix("tsr_")
    stored = _every_stored_value()
    assert not [value for value in stored if body in value or body[-16:] in value]
    token.refresh_from_db()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert len(token.prefix) == 12


def test_the_web_page_shows_a_new_token_once(world: World) -> None:
    user = world.user(world.a, Role.ANALYST)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("web:tokens"))
    created = client.post(
        reverse("web:tokens"), {"name": "laptop", "csrfmiddlewaretoken": csrf_token_from(page)}
    )
    token = ApiToken.objects.get(user=user, name="laptop")
    shown = re.findall(r'<code class="secret">([^<]+)</code>', created.content.decode())
    assert len(shown) == 1
    secret = shown[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.token_hash
    assert secret not in client.get(reverse("web:tokens")).content.decode()
    assert bearer(secret).get("/api/v1/me").json()["email"] == user.email


# --- Refused tokens -----------------------------------------------------------------------------


def test_a_revoked_token_gets_401(world: World) -> None:
    token, secret = create_token(user=world.user(world.a, Role.CASEWORKER), org=world.a)
    assert bearer(secret).get("/api/v1/me").status_code == 200
    revoke_token(token=token)
    response = bearer(secret).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API token."


def test_a_token_revoked_through_the_api_stops_working_and_the_revocation_is_audited(
    world: World,
) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    token, secret = create_token(user=user, org=world.a)
    assert bearer(secret).delete(f"/api/v1/tokens/{token.pk}").status_code == 204
    assert bearer(secret).get("/api/v1/me").status_code == 401
    revocations = _events(world.a, "token.revoke")
    assert [(e.object_id, e.actor_id) for e in revocations] == [(str(token.pk), user.pk)]


@pytest.mark.parametrize("how", ["membership deactivated", "user deactivated", "org deactivated"])
def test_tokens_of_deactivated_members_get_401(world: World, how: str) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    _token, secret = create_token(user=user, org=world.a)
    if how == "membership deactivated":
        deactivate_member(membership=membership(user, world.a))
    elif how == "user deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        Organisation.objects.filter(pk=world.a.pk).update(is_active=False)
    for path in ("/api/v1/me", "/api/v1/tokens"):
        assert bearer(secret).get(path).status_code == 401, path


def test_a_token_of_a_member_removed_from_one_org_still_refuses_the_other(
    world: World,
) -> None:
    user = make_member(world.a, Role.ORG_ADMIN, email="leaver@network.test")
    add_member(org=world.b, user=user, role=Role.ORG_ADMIN)
    _token, secret = create_token(user=user, org=world.a)
    deactivate_member(membership=membership(user, world.a))
    assert bearer(secret).get("/api/v1/me").status_code == 401, "must not fall back to org B"


# --- Last use -----------------------------------------------------------------------------------


def test_last_used_at_is_recorded_on_use(world: World) -> None:
    token, secret = create_token(user=world.user(world.a, Role.AUDITOR), org=world.a)
    assert token.last_used_at is None
    before = timezone.now()
    bearer(secret).get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at >= before


def test_last_used_at_moves_on_when_it_is_older_than_its_resolution(world: World) -> None:
    token, secret = create_token(user=world.user(world.a, Role.AUDITOR), org=world.a)
    long_ago = timezone.now() - timedelta(hours=3)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    bearer(secret).get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > long_ago + timedelta(hours=2)


# --- Malformed headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer    ",
        "Token tsr_abcdefghijklmnop",
        "tsr_abcdefghijklmnop",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/no-such-operation"])
def test_a_malformed_authorization_header_gets_401_saying_how_to_send_a_token(
    world: World, header: str, path: str
) -> None:
    response = Client(headers={"Authorization": header}).get(path)
    assert response.status_code == 401
    assert "Authorization: Bearer <token>" in response.json()["detail"]


# --- Tokens open the API, not the web pages -------------------------------------------------------


def test_a_token_does_not_open_the_web_pages(world: World) -> None:
    user = world.user(world.a, Role.ORG_ADMIN)
    _token, secret = create_token(user=user, org=world.a)
    client = bearer(secret)
    for path in (reverse("web:dashboard"), reverse("web:members"), "/accounts/2fa/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("account_login")), path


def test_a_token_cannot_mint_more_tokens_through_the_web_form(world: World) -> None:
    user = world.user(world.a, Role.ORG_ADMIN)
    _token, secret = create_token(user=user, org=world.a)
    response = bearer(secret).post(reverse("web:tokens"), {"name": "successor"})
    assert response.status_code in (302, 403)
    assert not ApiToken.objects.filter(name="successor").exists()


def test_web_pages_work_behind_a_proxy_that_sends_basic_auth(world: World) -> None:
    client = Client(headers={"Authorization": "Basic cHJveHk6cGFzcw=="})
    client.force_login(world.user(world.a, Role.CASEWORKER))
    assert client.get(reverse("web:dashboard")).status_code == 200


@pytest.mark.parametrize(
    "secret", ["tsr_not-a-real-token", "not-even-our-prefix", "tsr_", "TSR_ABC"]
)
def test_an_unknown_token_gets_401(world: World, secret: str) -> None:
    response = bearer(secret).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or revoked API token."


def test_a_bad_token_is_refused_even_beside_a_valid_session(world: World) -> None:
    client = bearer("tsr_not-a-real-token")
    client.force_login(world.user(world.a, Role.ORG_ADMIN))
    assert client.get("/api/v1/me").status_code == 401


# --- Creation is audited ------------------------------------------------------------------------


def test_creating_a_token_is_audited_in_its_organisation(world: World) -> None:
    user = world.user(world.a, Role.SUPERVISOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("web:tokens"))
    client.post(reverse("web:tokens"), {"name": "", "csrfmiddlewaretoken": csrf_token_from(page)})
    token = ApiToken.objects.get(user=user)
    created = _events(world.a, "token.create")
    assert [(e.object_id, e.actor_id, e.actor_label) for e in created][-1] == (
        str(token.pk),
        user.pk,
        user.email,
    )
    assert _events(world.b, "token.create") == []
