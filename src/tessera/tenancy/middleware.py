"""Sets request.org (after checking membership) and runs the request inside that organisation.

Bearer tokens are resolved here too, so that every request, web or API, has exactly one place where
its organisation is decided.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from tessera.accounts.tokens import resolve_token
from tessera.audit.context import Actor, acting_as
from tessera.tenancy.context import org_context, org_context_chosen_by_statement
from tessera.tenancy.models import Membership

SESSION_ORG_KEY = "tessera_org_id"
# API tokens authenticate the API only. Elsewhere an Authorization header is not ours (a proxy's
# Basic auth, say) and is ignored: a token must not open the web pages, whose forms skip CSRF for
# token requests, and from which it could mint itself successors.
API_PATH_PREFIX = "/api/"


def uses_api_token(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIX) and "Authorization" in request.headers


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for rate limits and login lockout (axes calls this too).

    Behind a trusted reverse proxy, the address that proxy appended is the *last* entry of
    X-Forwarded-For: everything to its left came from the client and can be forged to dodge a
    per-address limit.
    """
    if getattr(settings, "TESSERA_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def active_memberships(request: HttpRequest) -> list[Membership]:
    if not request.user.is_authenticated:
        return []
    return list(
        Membership.objects.select_related("org")
        .filter(user=request.user, is_active=True, org__is_active=True)
        .order_by("org__name")
    )


def _actor(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(
        user_id=user.pk if user.is_authenticated else None,
        label=user.get_username() if user.is_authenticated else "anonymous",
        ip=client_ip(request),
    )


class OrgMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.org = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        request.api_token = None  # type: ignore[attr-defined]
        authorization = request.headers.get("Authorization", "") if uses_api_token(request) else ""
        if authorization:
            scheme, _, raw = authorization.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                return JsonResponse({"detail": "Use 'Authorization: Bearer <token>'."}, status=401)
            return self._token_request(request, raw.strip())
        memberships = active_memberships(request)
        request.memberships = memberships  # type: ignore[attr-defined]
        membership = self._choose(request, memberships)
        with acting_as(_actor(request)):
            if membership is None:
                return self.get_response(request)
            request.org = membership.org  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            with org_context(membership.org):
                return self.get_response(request)

    def _token_request(self, request: HttpRequest, raw: str) -> HttpResponse:
        # The token's lookup is the transaction's first statement and sets its organisation too
        # (one round trip fewer on every API request); tenancy checks the value it set.
        with org_context_chosen_by_statement() as chosen:
            grant = resolve_token(raw, org_setting=chosen.setting)
            if grant is None:
                return JsonResponse({"detail": "Invalid or revoked API token."}, status=401)
            chosen.enter(grant.membership.org, grant.org_setting)
            request.user = grant.token.user
            request.api_token = grant.token  # type: ignore[attr-defined]
            # Bearer tokens are not sent by browsers on their own, so CSRF does not apply.
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
            # A token acts in its own organisation only, whatever else its user belongs to.
            request.memberships = [grant.membership]  # type: ignore[attr-defined]
            request.org = grant.membership.org  # type: ignore[attr-defined]
            request.membership = grant.membership  # type: ignore[attr-defined]
            with acting_as(_actor(request)):
                return self.get_response(request)

    @staticmethod
    def _choose(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
        if not memberships:
            return None
        wanted = request.session.get(SESSION_ORG_KEY)
        for membership in memberships:
            if membership.org_id == wanted:
                return membership
        return memberships[0]
