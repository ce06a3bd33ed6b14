"""The Content-Security-Policy header, built once rather than on every response.

django-csp rebuilds the policy string from settings for each response (about 0.3 ms, a tenth of an
API request's floor). Tessera's policy is the same for every response unless a view asks for a
nonce or overrides the policy, so the string is cached until the settings change; those rarer
responses still go through django-csp unchanged.
"""

from __future__ import annotations

from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt",
    "_csp_exempt_ro",
)
_cached: dict[bool, str] = {}


@receiver(setting_changed)
def _forget_policy(*, setting: str, **_kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _cached.clear()


def _policy(*, report_only: bool) -> str:
    if report_only not in _cached:
        _cached[report_only] = build_policy(report_only=report_only)
    return _cached[report_only]


class CachedPolicyCSPMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        uses_nonce = getattr(request, "_csp_nonce", None) is not None
        overridden = any(hasattr(response, name) for name in _OVERRIDES)
        if uses_nonce or overridden or self._debug_page(response) or self._excludes(request):
            return super().process_response(request, response)
        for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
            policy = _policy(report_only=report_only)
            if policy and header not in response:
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error, not a no-op.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response

    @staticmethod
    def _debug_page(response: HttpResponseBase) -> bool:
        return settings.DEBUG and response.status_code in (404, 500)

    @staticmethod
    def _excludes(request: HttpRequest) -> bool:
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
            prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
            if prefixes and request.path_info.startswith(tuple(prefixes)):
                return True
        return False
