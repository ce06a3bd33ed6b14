"""Refused logins: the django-axes lockout, allauth's rate limit, and their audit trail."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from tessera.settings import base as base_settings
from tessera.tenancy.roles import Role

from .conftest import TEST_PASSWORD, World
from .test_accounts import MFA_URL, _logged_in_user_id, _system_events

# --- Lockout (django-axes) ----------------------------------------------------------------------


def _attempt(email: str, password: str) -> tuple[Client, int]:
    client = Client()
    response = client.post("/accounts/login/", {"login": email, "password": password})
    return client, response.status_code


@override_settings(AXES_ENABLED=True)
def test_the_account_locks_after_the_configured_failures_even_for_the_right_password(
    world: World,
) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _client, status = _attempt(user.email, "wrong-password-attempt")
        assert status in (200, 403, 429)
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [user.email]
    client, status = _attempt(user.email, TEST_PASSWORD)
    assert status in (403, 429), "the right password must be refused while locked out"
    assert _logged_in_user_id(client) is None
    assert client.get(MFA_URL).status_code != 200, "a locked-out login must not reach the MFA step"


@override_settings(AXES_ENABLED=True)
def test_failures_count_against_the_address_whatever_its_case(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        variant = user.email.upper() if attempt % 2 else user.email
        _attempt(variant, "wrong-password-attempt")
    _client, status = _attempt(user.email, TEST_PASSWORD)
    assert status in (403, 429)


@override_settings(AXES_ENABLED=True)
def test_fewer_failures_than_the_limit_do_not_lock_out(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _attempt(user.email, "wrong-password-attempt")
    client, status = _attempt(user.email, TEST_PASSWORD)
    assert status == 302
    assert client.get(MFA_URL).status_code == 200


@override_settings(AXES_ENABLED=True)
def test_a_lockout_of_one_account_does_not_lock_another(world: World) -> None:
    victim = world.user(world.a, Role.CASEWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(victim.email, "wrong-password-attempt")
    colleague = world.user(world.a, Role.SUPERVISOR)
    _client, status = _attempt(colleague.email, TEST_PASSWORD)
    assert status == 302


@override_settings(AXES_ENABLED=True, TESSERA_TRUST_X_FORWARDED_FOR=True)
def test_behind_a_trusted_proxy_failures_are_recorded_against_the_forwarded_client(
    world: World,
) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    Client().post(
        "/accounts/login/",
        {"login": user.email, "password": "wrong-password-attempt"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.20",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.20"]


def test_the_lockout_limit_is_five_failures_in_base_settings() -> None:
    assert base_settings.AXES_FAILURE_LIMIT == 5


def test_failed_logins_are_recorded_in_the_audit_trail(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    _attempt(user.email, "wrong-password-attempt")
    _attempt("nobody@nowhere.test", "wrong-password-attempt")
    failures = _system_events("auth.login_failed")
    assert [e.actor_label for e in failures] == [user.email, "nobody@nowhere.test"]
    assert all(e.ip == "127.0.0.1" for e in failures)
    assert all("wrong-password" not in str(e.fields) + e.reason for e in failures)


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "100/m/ip,2/5m/key"})
def test_rate_limited_logins_are_recorded_in_the_audit_trail(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    cache.clear()
    try:
        statuses = [_attempt(user.email, "wrong-password-attempt")[1] for _ in range(4)]
        _client, right_password_status = _attempt(user.email, TEST_PASSWORD)
    finally:
        cache.clear()
    refused = _system_events("auth.login_rate_limited")
    assert right_password_status != 302, "the limit must hold even for the right password"
    assert len(refused) == 3, statuses
    assert {e.actor_label for e in refused} == {user.email}
    assert all(e.ip == "127.0.0.1" for e in refused)
    assert all("password" not in str(e.fields) + e.reason for e in refused)
    assert len(_system_events("auth.login_failed")) == 2, "only the attempts that were checked"


@override_settings(AXES_ENABLED=True)
def test_attempts_refused_by_a_lockout_are_recorded_as_such(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _attempt(user.email, "wrong-password-attempt")
    assert len(_system_events("auth.locked_out")) == 1, "the failure that locked the account"
    _attempt(user.email, TEST_PASSWORD)
    locked = _system_events("auth.locked_out")
    assert [e.actor_label for e in locked] == [user.email, user.email], "and the refused attempt"
    assert all(e.ip == "127.0.0.1" for e in locked)
