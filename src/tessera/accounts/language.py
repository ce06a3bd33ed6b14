"""The interface language: the footer switcher, then the user's preference, then Accept-Language.

Django's LocaleMiddleware already honours the language cookie (set by the switcher) and then
Accept-Language. It runs before authentication, so it cannot know the user; this middleware, placed
after AuthenticationMiddleware, applies `User.preferred_language` when the browser has not chosen a
language with the switcher. The switcher stores the choice on the user too, so a new device or
browser starts in the language the person last picked.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def preferred_language(request: HttpRequest) -> str | None:
    """The saved language of the logged-in user, if any and if still offered."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    language: str = getattr(user, "preferred_language", "")
    return language if language in dict(settings.LANGUAGES) else None


class PreferredLanguageMiddleware:
    """Activate the user's saved language unless the language cookie says otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = None
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            language = preferred_language(request)
        if language is not None and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
