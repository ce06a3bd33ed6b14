"""Which login name a failed attempt counts against (django-axes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def login_name(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The e-mail address the attempt was for, normalised so that case variants share a counter.

    allauth authenticates with `email=…`, and its form posts `login=…`; axes looks for neither on
    its own, so without this every attempt from one address counted against "no user": a lockout
    then shut out everyone at that address and never the account under attack.
    """
    credentials = credentials or {}
    name = credentials.get("email") or credentials.get("login") or credentials.get("username")
    if not name and request is not None:
        name = request.POST.get("login")
    if not name:
        return None
    return str(name).strip().lower()
