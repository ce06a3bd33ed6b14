"""Audit logins, logouts, failed, rate-limited and locked-out logins; start the session clock."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from tessera.accounts.middleware import LOGIN_AT, SEEN_AT
from tessera.audit.context import Actor, acting_as
from tessera.audit.services import record
from tessera.tenancy.context import system_context
from tessera.tenancy.middleware import client_ip


def _record_system(
    action: str, request: HttpRequest | None, label: str, user_id: int | None
) -> None:
    ip = client_ip(request) if request is not None else None
    with acting_as(Actor(user_id=user_id, label=label, ip=ip)), system_context():
        record(action=action, object_type="User", object_id=user_id or "")


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now
    _record_system("auth.login", request, user.get_username(), user.pk)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _record_system("auth.logout", request, user.get_username(), user.pk)


def record_refused_login(
    action: str, request: HttpRequest | None, credentials: dict[str, Any]
) -> None:
    # The attempted login name is recorded (never the password): it is what an investigator of a
    # lockout needs.
    label = str(
        credentials.get("email") or credentials.get("username") or credentials.get("login") or "?"
    )
    _record_system(action, request, label[:254], None)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    record_refused_login("auth.login_failed", request, credentials)


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    record_refused_login("auth.locked_out", request, {"login": username or "?"})
