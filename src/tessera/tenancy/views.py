"""Base views: every page that shows organisation data declares the permission it needs.

`required_perm` on a view (class attribute or function attribute) is read by the permission checks
here and by the test that enumerates every URL, so a new page is covered without editing that test.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from tessera.tenancy.roles import Perm

View = TypeVar("View", bound=Callable[..., HttpResponse])


def check_org_perm(request: HttpRequest, perm: Perm) -> HttpResponse | None:
    """None when allowed; otherwise the response to send (login redirect, 404 or 403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = getattr(request, "membership", None)
    if membership is None:
        # Logged in but a member of no organisation: nothing here exists for them.
        raise Http404
    if not membership.has_perm(perm):
        raise PermissionDenied
    return None


def requires_perm(perm: Perm) -> Callable[[View], View]:
    """Decorate a function view: it runs only for members of the current org holding `perm`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refused = check_org_perm(request, perm)
            if refused is not None:
                return refused
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def requires_login(view: View) -> View:
    """For pages about the user themself (not organisation data), e.g. their API tokens."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.required_perm = None  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def public(view: View) -> View:
    """Mark a view as deliberately reachable without logging in."""
    view.is_public = True  # type: ignore[attr-defined]
    return view
