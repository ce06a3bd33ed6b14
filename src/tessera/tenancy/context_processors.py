from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def current_org(request: HttpRequest) -> dict[str, Any]:
    return {
        "current_org": getattr(request, "org", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }
