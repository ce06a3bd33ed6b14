"""Logging in (password, then a second factor), lockout, sessions, headers and the org switcher."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY as TOTP_SESSION_SECRET
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tessera.accounts.middleware import LOGIN_AT, SEEN_AT
from tessera.accounts.models import User
from tessera.audit.models import AuditEvent
from tessera.settings import base as base_settings
from tessera.tenancy.context import org_context, system_context
from tessera.tenancy.middleware import SESSION_ORG_KEY
from tessera.tenancy.models import Organisation
from tessera.tenancy.roles import Role
from tessera.tenancy.services import add_member, create_organisation, deactivate_member

from .conftest import TEST_PASSWORD, TOTP_SECRET, World, make_member, membership
from .support import csrf_token_from, log_in, post_form, totp_code
from .support import forget_used_totp_codes as forget_used_totp_codes
from .walls import PUBLIC, api_endpoints, web_endpoints
from .walls import module_world as module_world


@pytest.fixture
def world(module_world: World, db: None) -> World:
    """One world per module (each test's changes are rolled back)."""
    return module_world


MFA_URL = "/accounts/2fa/authenticate/"

pytestmark = pytest.mark.usefixtures("forget_used_totp_codes")


def _logged_in_user_id(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def _system_events(action: str) -> list[AuditEvent]:
    with system_context():
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def _org_events(org: Organisation, action: str) -> list[AuditEvent]:
    with org_context(org):
        return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- The login flow ------------------------------------------------------------------------------


def test_login_needs_the_password_then_a_totp_code_then_lands_on_the_dashboard(
    world: World,
) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    client = Client(enforce_csrf_checks=True)

    password_step = log_in(client, user.email, TEST_PASSWORD)
    assert password_step.status_code == 302
    assert password_step["Location"] == MFA_URL
    assert _logged_in_user_id(client) is None, "the password alone must not log in"
    assert client.get(reverse("web:dashboard"))["Location"].startswith("/accounts/login/")

    mfa_step = post_form(client, MFA_URL, {"code": totp_code(TOTP_SECRET)})
    assert mfa_step.status_code == 302
    assert mfa_step["Location"] == reverse("web:dashboard")
    assert _logged_in_user_id(client) == user.pk

    dashboard = client.get(reverse("web:dashboard"))
    assert dashboard.status_code == 200
    assert world.a.name in dashboard.content.decode()
    assert [e.actor_id for e in _system_events("auth.login")] == [user.pk]


def test_logging_in_gives_a_new_session_key_and_logging_out_ends_it_and_is_audited(
    world: World,
) -> None:
    user = world.user(world.a, Role.AUDITOR)
    client = Client(enforce_csrf_checks=True)
    log_in(client, user.email, TEST_PASSWORD)
    key_before_mfa = client.session.session_key
    post_form(client, MFA_URL, {"code": totp_code(TOTP_SECRET)})
    assert client.session.session_key != key_before_mfa, "session fixation"

    page = client.get(reverse("web:dashboard"))
    client.post(reverse("account_logout"), {"csrfmiddlewaretoken": csrf_token_from(page)})
    assert _logged_in_user_id(client) is None
    assert client.get(reverse("web:dashboard"))["Location"].startswith(reverse("account_login"))
    assert [e.actor_id for e in _system_events("auth.logout")] == [user.pk]


def test_a_get_request_does_not_log_out(world: World) -> None:
    client = world.client_for(world.a, Role.AUDITOR)
    client.get(reverse("account_logout"))
    assert client.get(reverse("web:dashboard")).status_code == 200


@pytest.mark.parametrize("how", ["membership deactivated", "user deactivated"])
def test_a_deactivated_member_loses_access_at_their_next_request(world: World, how: str) -> None:
    user = world.user(world.a, Role.ORG_ADMIN)
    client = world.client_for(world.a, Role.ORG_ADMIN)
    assert client.get(reverse("web:members")).status_code == 200
    if how == "membership deactivated":
        deactivate_member(membership=membership(user, world.a))
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)
    for path in (reverse("web:members"), reverse("web:dashboard"), "/api/v1/me"):
        response = client.get(path)
        assert response.status_code in (302, 401, 403, 404), path
        assert world.user(world.a, Role.CASEWORKER).email not in response.content.decode()


def test_a_wrong_totp_code_does_not_log_in(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    client = Client(enforce_csrf_checks=True)
    log_in(client, user.email, TEST_PASSWORD)
    wrong = f"{(int(totp_code(TOTP_SECRET)) + 1) % 1_000_000:06d}"
    response = post_form(client, MFA_URL, {"code": wrong})
    assert response.status_code == 200
    assert _logged_in_user_id(client) is None


def _start_of_a_totp_step(margin: float = 8.0, step: int = 30) -> None:
    """Wait until at least `margin` seconds remain in the current step, so that a code computed for
    "one step back" is still one step back when the server checks it (a slow machine was flaky)."""
    remaining = step - time.time() % step
    if remaining < margin:
        time.sleep(remaining + 0.05)


def test_the_previous_totp_code_is_accepted_but_an_older_one_is_not(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    _start_of_a_totp_step()
    stale = Client(enforce_csrf_checks=True)
    log_in(stale, user.email, TEST_PASSWORD)
    response = post_form(stale, MFA_URL, {"code": totp_code(TOTP_SECRET, time.time() - 75)})
    assert response.status_code == 200
    assert _logged_in_user_id(stale) is None

    late = Client(enforce_csrf_checks=True)
    log_in(late, user.email, TEST_PASSWORD)
    _start_of_a_totp_step()
    response = post_form(late, MFA_URL, {"code": totp_code(TOTP_SECRET, time.time() - 30)})
    assert response.status_code == 302
    assert _logged_in_user_id(late) == user.pk


def test_a_wrong_password_does_not_reach_the_mfa_step(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    client = Client(enforce_csrf_checks=True)
    response = log_in(client, user.email, "not-the-password")
    assert response.status_code == 200
    assert client.get(MFA_URL).status_code != 200
    assert _logged_in_user_id(client) is None


def test_self_service_sign_up_is_closed(db: None) -> None:
    client = Client()
    client.post(
        "/accounts/signup/",
        {"email": "newcomer@example.test", "password1": TEST_PASSWORD, "password2": TEST_PASSWORD},
    )
    assert not User.objects.filter(email="newcomer@example.test").exists()


# --- Staff without a second factor --------------------------------------------------------------

ORG_PAGES = [e for e in web_endpoints() if PUBLIC not in e.access.values()]
API_OPERATIONS = [
    (e, method)
    for e in api_endpoints()
    for method, requirement in e.access.items()
    if requirement != PUBLIC
]


def _fill(route: str, params: tuple[str, ...], name: str) -> str:
    if name.startswith("web:"):
        return reverse(name, kwargs=dict.fromkeys(params, 1))
    for param in params:
        route = route.replace("{" + param + "}", "1")
    return route


@pytest.fixture
def staff_without_mfa(world: World) -> User:
    return make_member(world.a, Role.ORG_ADMIN, email="no-mfa@alpha.test", mfa=False)


def test_staff_without_mfa_log_in_then_must_enrol_totp_before_reaching_any_data(
    world: World, staff_without_mfa: User
) -> None:
    client = Client(enforce_csrf_checks=True)
    log_in(client, staff_without_mfa.email, TEST_PASSWORD)
    assert _logged_in_user_id(client) == staff_without_mfa.pk

    response = client.get(reverse("web:dashboard"), follow=True)
    activate = reverse("mfa_activate_totp")
    assert response.redirect_chain[0][0] == activate
    # allauth asks for the password again before a second factor is added.
    reauthenticate = response.redirect_chain[-1][0]
    assert reauthenticate.startswith(reverse("account_reauthenticate"))
    response = post_form(client, reauthenticate, {"password": TEST_PASSWORD})
    assert response["Location"] == activate

    page = client.get(activate)
    assert page.status_code == 200
    secret = client.session[TOTP_SESSION_SECRET]
    assert secret in page.content.decode(), "the secret is shown for manual entry"
    response = client.post(
        activate, {"code": totp_code(secret), "csrfmiddlewaretoken": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert Authenticator.objects.filter(
        user=staff_without_mfa, type=Authenticator.Type.TOTP
    ).exists()
    assert client.get(reverse("web:dashboard")).status_code == 200


@pytest.mark.parametrize("page", ORG_PAGES, ids=str)
def test_staff_without_mfa_are_sent_to_totp_enrolment_from_every_org_page(
    staff_without_mfa: User, page: Any
) -> None:
    client = Client()
    client.force_login(staff_without_mfa)
    path = _fill(page.route, page.params, page.name)
    for method in ("GET", "POST"):
        response = client.generic(method, path)
        assert response.status_code == 302, f"{method} {path}"
        assert response["Location"] == reverse("mfa_activate_totp"), f"{method} {path}"


@pytest.mark.parametrize(("operation", "method"), API_OPERATIONS, ids=lambda v: str(v))
def test_staff_without_mfa_get_403_from_every_api_operation_by_session(
    staff_without_mfa: User, operation: Any, method: str
) -> None:
    client = Client()
    client.force_login(staff_without_mfa)
    response = client.generic(method, _fill(operation.route, operation.params, operation.name))
    assert response.status_code == 403
    assert "second factor" in response.json()["detail"]


@pytest.mark.parametrize("name", ["mfa_activate_totp", "account_reauthenticate", "mfa_index"])
def test_the_enrolment_pages_stay_reachable_without_mfa(staff_without_mfa: User, name: str) -> None:
    client = Client()
    client.force_login(staff_without_mfa)
    response = client.get(reverse(name))
    # Enrolling asks for the password again first; nothing here sends the user round in a loop.
    assert response.status_code == 200 or response["Location"].startswith(
        reverse("account_reauthenticate")
    )


# --- Recovery codes -----------------------------------------------------------------------------


def _log_in_with_code(email: str, code: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    assert log_in(client, email, TEST_PASSWORD)["Location"] == MFA_URL
    post_form(client, MFA_URL, {"code": code})
    return client


def test_each_recovery_code_logs_in_once(world: World) -> None:
    user = world.user(world.a, Role.SUPERVISOR)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    assert len(codes) == settings.MFA_RECOVERY_CODE_COUNT
    first, second = codes[0], codes[1]

    assert _logged_in_user_id(_log_in_with_code(user.email, first)) == user.pk
    assert _logged_in_user_id(_log_in_with_code(user.email, first)) is None, "reused"
    assert _logged_in_user_id(_log_in_with_code(user.email, second)) == user.pk

    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    remaining = RecoveryCodes(authenticator).get_unused_codes()
    assert first not in remaining
    assert second not in remaining
    assert len(remaining) == len(codes) - 2


# --- Passwords ----------------------------------------------------------------------------------


def test_argon2_is_the_first_password_hasher_in_base_settings() -> None:
    assert base_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short-pw-9", "password_too_short"),
        ("qwerty123456", "password_too_common"),
        ("1qaz2wsx3edc", "password_too_common"),
        ("314159265358979", "password_entirely_numeric"),
    ],
)
def test_weak_passwords_are_rejected_for_the_right_reason(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_password(password)
    assert code in {error.code for error in raised.value.error_list}


def test_a_password_like_the_e_mail_is_rejected(db: None) -> None:
    user = User(email="mariana.quispe@example.test")
    with pytest.raises(ValidationError) as raised:
        validate_password("mariana.quispe@example", user)
    assert "password_too_similar" in {error.code for error in raised.value.error_list}


def test_a_long_uncommon_password_is_accepted() -> None:
    validate_password("lantern-orchard-violet-27")


def test_base_settings_require_twelve_characters() -> None:
    lengths = [
        v.get("OPTIONS", {}).get("min_length")
        for v in base_settings.AUTH_PASSWORD_VALIDATORS
        if v["NAME"].endswith("MinimumLengthValidator")
    ]
    assert lengths == [12]


# --- Session lifetime ---------------------------------------------------------------------------


def test_sessions_last_30_minutes_idle_and_12_hours_at_most() -> None:
    assert base_settings.TESSERA_SESSION_IDLE_SECONDS == 30 * 60
    assert base_settings.TESSERA_SESSION_ABSOLUTE_SECONDS == 12 * 60 * 60


def _session_client(world: World, *, login_ago: float, seen_ago: float) -> Client:
    client = Client()
    client.force_login(world.user(world.a, Role.CASEWORKER))
    session = client.session
    now = time.time()
    session[LOGIN_AT] = now - login_ago
    session[SEEN_AT] = now - seen_ago
    session.save()
    return client


@pytest.mark.parametrize(
    ("login_ago", "seen_ago"),
    [(31 * 60, 31 * 60), (12 * 3600 + 60, 60)],
    ids=["idle for 31 minutes", "logged in 12 hours ago, active a minute ago"],
)
def test_an_expired_session_is_ended(world: World, login_ago: float, seen_ago: float) -> None:
    client = _session_client(world, login_ago=login_ago, seen_ago=seen_ago)
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert _logged_in_user_id(client) is None
    assert "Your session ended" in client.get(response["Location"]).content.decode()
    follow_up = client.get(reverse("web:dashboard"))
    assert follow_up["Location"].startswith(reverse("account_login"))


def test_an_authorization_header_does_not_exempt_a_web_session_from_its_limits(
    world: World,
) -> None:
    client = _session_client(world, login_ago=31 * 60, seen_ago=31 * 60)
    response = client.get(reverse("web:dashboard"), headers={"Authorization": "Basic eDp5"})
    assert response["Location"].startswith(reverse("account_login"))
    assert _logged_in_user_id(client) is None


def test_an_expired_session_gets_401_from_the_api(world: World) -> None:
    client = _session_client(world, login_ago=31 * 60, seen_ago=31 * 60)
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert _logged_in_user_id(client) is None


@pytest.mark.parametrize(
    ("login_ago", "seen_ago"),
    [(29 * 60, 29 * 60), (11 * 3600, 60)],
    ids=["idle for 29 minutes", "logged in 11 hours ago, active a minute ago"],
)
def test_a_session_within_its_limits_continues(
    world: World, login_ago: float, seen_ago: float
) -> None:
    client = _session_client(world, login_ago=login_ago, seen_ago=seen_ago)
    assert client.get(reverse("web:dashboard")).status_code == 200
    assert client.session[SEEN_AT] > time.time() - 60, "activity must restart the idle clock"


# --- Security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/", "/dashboard/", "/audit/", "/account/tokens/", "/healthz"]
)
def test_pages_carry_the_security_headers(world: World, path: str) -> None:
    client = Client()
    if path != "/accounts/login/":
        client.force_login(world.user(world.a, Role.ORG_ADMIN))
    response = client.get(path, follow=True)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_session_cookie_is_http_only_and_same_site(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    log_in(client, world.user(world.a, Role.CASEWORKER).email, TEST_PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


# --- Organisation switcher ----------------------------------------------------------------------


@pytest.fixture
def coordinator(world: World) -> User:
    """Org admin in A and in B (two memberships)."""
    user = make_member(world.a, Role.ORG_ADMIN, email="coordinator@network.test")
    add_member(org=world.b, user=user, role=Role.ORG_ADMIN)
    return user


def _switch(client: Client, org_id: int | str) -> Any:
    page = client.get(reverse("web:dashboard"))
    return client.post(
        reverse("web:switch_org"), {"org": org_id, "csrfmiddlewaretoken": csrf_token_from(page)}
    )


def test_switching_to_an_organisation_of_ones_own_works_and_is_audited(
    world: World, coordinator: User
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert world.a.name in client.get(reverse("web:dashboard")).content.decode()

    response = _switch(client, world.b.pk)
    assert response.status_code == 302
    assert client.session[SESSION_ORG_KEY] == world.b.pk
    assert world.b.name in client.get(reverse("web:dashboard")).content.decode()
    switches = _org_events(world.b, "org.switch")
    assert [(e.actor_id, e.object_id) for e in switches] == [(coordinator.pk, str(world.b.pk))]
    assert _org_events(world.a, "org.switch") == []


@pytest.mark.parametrize("target", ["stranger", "inactive", "garbage"])
def test_switching_to_an_organisation_one_does_not_belong_to_is_refused_and_changes_nothing(
    world: World, coordinator: User, target: str
) -> None:
    stranger = create_organisation(slug="gamma", name="Gamma Legal", shipping_country="RO")
    if target == "inactive":
        deactivate_member(membership=membership(coordinator, world.b))
        org_id: int | str = world.b.pk
    elif target == "stranger":
        org_id = stranger.pk
    else:
        org_id = "not-a-number"
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    session_before = client.session.get(SESSION_ORG_KEY)

    _switch(client, org_id)
    assert client.session.get(SESSION_ORG_KEY) == session_before
    dashboard = client.get(reverse("web:dashboard")).content.decode()
    assert world.a.name in dashboard
    for org in (world.a, world.b, stranger):
        assert _org_events(org, "org.switch") == []


def test_a_user_with_two_memberships_sees_only_the_current_organisations_data(
    world: World, coordinator: User
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    a_emails = {u.email for (slug, _), u in world.users.items() if slug == world.a.slug}
    b_emails = {u.email for (slug, _), u in world.users.items() if slug == world.b.slug}

    def shown(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200
        return response.content.decode()

    members_a = shown(reverse("web:members"))
    assert all(email in members_a for email in a_emails)
    assert not any(email in members_a for email in b_emails)
    api_a = {m["email"] for m in client.get("/api/v1/members").json()["items"]}
    assert api_a == a_emails | {coordinator.email}

    _switch(client, world.b.pk)
    members_b = shown(reverse("web:members"))
    assert all(email in members_b for email in b_emails)
    assert not any(email in members_b for email in a_emails)
    assert client.get("/api/v1/me").json()["org"] == world.b.slug
    with org_context(world.a):
        a_links = [
            reverse("web:audit_event", args=[pk])
            for pk in AuditEvent.objects.values_list("pk", flat=True)
        ]
    with org_context(world.b):
        b_links = [
            reverse("web:audit_event", args=[pk])
            for pk in AuditEvent.objects.values_list("pk", flat=True)
        ]
    audit_b = shown(reverse("web:audit_trail"))
    assert all(f'href="{link}"' in audit_b for link in b_links)
    assert not any(f'href="{link}"' in audit_b for link in a_links)
