"""Session lifetime limits and the MFA requirement for staff."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from tessera.accounts.services import has_mfa
from tessera.tenancy.middleware import uses_api_token

LOGIN_AT = "tessera_login_at"
SEEN_AT = "tessera_seen_at"


class SessionTimeoutMiddleware:
    """Ends a session after TESSERA_SESSION_IDLE_SECONDS idle or TESSERA_SESSION_ABSOLUTE_SECONDS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A token request's own session cookie, if any, is not what authenticates it.
        if request.user.is_authenticated and not uses_api_token(request):
            now = time.time()
            login_at = request.session.get(LOGIN_AT, now)
            seen_at = request.session.get(SEEN_AT, now)
            idle = now - seen_at > settings.TESSERA_SESSION_IDLE_SECONDS
            too_old = now - login_at > settings.TESSERA_SESSION_ABSOLUTE_SECONDS
            if idle or too_old:
                logout(request)
                messages.info(request, _("Your session ended. Please log in again."))
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Session expired."}, status=401)
                return redirect(f"{reverse('account_login')}?next={request.path}")
            request.session.setdefault(LOGIN_AT, now)
            request.session[SEEN_AT] = now
        return self.get_response(request)


# Paths a staff member without MFA may still reach: enrolling MFA itself, logging out, assets.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/")


class RequireMFAMiddleware:
    """Staff reach no organisation data until they have enrolled a second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and getattr(request, "api_token", None) is None
            and getattr(request, "memberships", None)
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and not has_mfa(request.user.pk)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Enrol a second factor (TOTP) first."}, status=403)
            messages.warning(request, _("Set up two-factor authentication to continue."))
            return redirect("mfa_activate_totp")
        return self.get_response(request)
