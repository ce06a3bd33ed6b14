"""Helpers for tests that drive the real login flow: TOTP codes, CSRF tokens from pages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def totp_code(secret: str, at: float | None = None, *, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), computed here rather than by allauth, as an authenticator app
    would compute it."""
    counter = int((time.time() if at is None else at) // step)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def csrf_token_from(response: HttpResponse) -> str:
    found = _CSRF_INPUT.search(response.content.decode())
    assert found, "the page has no CSRF token in a form"
    return found.group(1)


def post_form(client: Client, path: str, data: dict[str, str]) -> HttpResponse:
    """GET the page, then POST its form with the page's CSRF token, as a browser does."""
    page = client.get(path)
    assert page.status_code == 200, f"GET {path} → {page.status_code}"
    return client.post(path, {**data, "csrfmiddlewaretoken": csrf_token_from(page)})


def log_in(client: Client, email: str, password: str) -> HttpResponse:
    """The password step of allauth's login."""
    return post_form(client, "/accounts/login/", {"login": email, "password": password})


@pytest.fixture
def forget_used_totp_codes() -> Iterator[None]:
    """allauth refuses a TOTP code it has seen for the same user id within its period, in the
    process-wide cache; user ids repeat from one (rolled-back) test to the next on SQLite, so a code
    accepted in one test would be refused as a replay in the next."""
    cache.clear()
    yield
    cache.clear()
