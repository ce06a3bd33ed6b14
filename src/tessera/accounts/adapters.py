from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by self-service sign-up."""

    def is_open_for_signup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUPS", False))
