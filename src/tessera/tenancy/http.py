"""The request as OrgMiddleware leaves it, for type-checked views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from tessera.accounts.models import ApiToken, User
    from tessera.tenancy.models import Membership, Organisation


class OrgRequest(HttpRequest):
    user: User
    org: Organisation
    membership: Membership
    memberships: list[Membership]
    api_token: ApiToken | None
