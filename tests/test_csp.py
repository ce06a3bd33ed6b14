"""The cached Content-Security-Policy header says exactly what django-csp would say."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.decorators import csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings

from tessera.web.csp import CachedPolicyCSPMiddleware


def _through(
    middleware_class: type, view: object, path: str = "/x"
) -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get(path)
    middleware = middleware_class(view)
    return request, middleware(request)


def _both(view: object, path: str = "/x") -> tuple[HttpResponse, HttpResponse]:
    return _through(CSPMiddleware, view, path)[1], _through(CachedPolicyCSPMiddleware, view, path)[
        1
    ]


def test_a_plain_response_gets_the_same_policy_as_from_django_csp() -> None:
    ours, theirs = _both(lambda _r: JsonResponse({"ok": True}))
    assert ours[HEADER] == theirs[HEADER]
    assert "default-src 'none'" in theirs[HEADER]
    assert HEADER_REPORT_ONLY not in theirs


def test_a_changed_setting_changes_the_cached_policy() -> None:
    _through(CachedPolicyCSPMiddleware, lambda _r: HttpResponse("warm the cache"))
    policy = {"DIRECTIVES": {"default-src": ["'self'"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy
    ):
        ours, theirs = _both(lambda _r: HttpResponse("x"))
        assert ours[HEADER] == theirs[HEADER] == "default-src 'self'"
        assert ours[HEADER_REPORT_ONLY] == theirs[HEADER_REPORT_ONLY]
    after = _through(CachedPolicyCSPMiddleware, lambda _r: HttpResponse("x"))[1]
    assert "default-src 'none'" in after[HEADER]


def test_a_view_that_asks_for_a_nonce_gets_it_in_the_header() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")  # type: ignore[attr-defined]

    policy = {"DIRECTIVES": {"default-src": ["'none'"], "script-src": ["'self'", NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        request, response = _through(CachedPolicyCSPMiddleware, view)
    nonce = request._csp_nonce  # type: ignore[attr-defined]
    directives = sorted(d.strip() for d in response[HEADER].split(";"))
    assert directives == ["default-src 'none'", f"script-src 'self' 'nonce-{nonce}'"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error() -> None:
    request, _response = _through(CachedPolicyCSPMiddleware, lambda _r: HttpResponse("x"))
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)  # type: ignore[attr-defined]


def test_a_per_view_update_is_honoured() -> None:
    @csp_update({"img-src": ["https://tiles.example"]})
    def view(_request: HttpRequest) -> HttpResponse:
        return HttpResponse("x")

    ours, theirs = _both(view)
    assert ours[HEADER] == theirs[HEADER]
    assert "https://tiles.example" in ours[HEADER]


def test_a_header_the_view_set_itself_is_kept() -> None:
    def view(_request: HttpRequest) -> HttpResponse:
        response = HttpResponse("x")
        response[HEADER] = "sandbox"
        return response

    ours, theirs = _both(view)
    assert ours[HEADER] == theirs[HEADER] == "sandbox"


@override_settings(DEBUG=True)
def test_debug_error_pages_are_left_without_a_policy_as_django_csp_does() -> None:
    ours, theirs = _both(lambda _r: HttpResponse("missing", status=404))
    assert HEADER not in ours and HEADER not in theirs


def test_excluded_prefixes_are_honoured() -> None:
    policy = {"EXCLUDE_URL_PREFIXES": ["/open/"], "DIRECTIVES": {"default-src": ["'none'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        ours, theirs = _both(lambda _r: HttpResponse("x"), path="/open/page")
        assert HEADER not in ours and HEADER not in theirs
