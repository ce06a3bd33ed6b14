from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from tessera.vault.secrets import open_secret, seal_secret


class AccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by self-service sign-up."""

    def is_open_for_signup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> bool:
        return bool(getattr(settings, "ACCOUNT_ALLOW_SIGNUPS", False))

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # allauth refuses a rate-limited attempt before authenticating, so Django's
        # `user_login_failed` never fires for it: without this, a password-guessing run that hits
        # the limit would leave no trace in the audit trail.
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from tessera.accounts.signals import record_refused_login

            record_refused_login("auth.login_rate_limited", request, credentials)
            raise


MFA_PURPOSE = "mfa-secret"


class MFAAdapter(DefaultMFAAdapter):
    """TOTP seeds and recovery-code seeds are sealed under the master key, never stored in clear."""

    def encrypt(self, text: str) -> str:
        return seal_secret(text, purpose=MFA_PURPOSE)

    def decrypt(self, encrypted_text: str) -> str:
        return open_secret(encrypted_text, purpose=MFA_PURPOSE)
