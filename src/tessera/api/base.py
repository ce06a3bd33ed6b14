"""API building blocks: org-scoped, permission-checked operations.

Every operation goes through `OrgRouter`, which attaches the authentication and permission check and
records the permission in the OpenAPI document (`x-tessera-permission`), where the test that
enumerates every operation finds it.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from tessera.tenancy.roles import Perm

PERMISSION_KEY = "x-tessera-permission"
PUBLIC_KEY = "x-tessera-public"
MEMBER = "member"
MAX_LIMIT = 100
MAX_OFFSET = 10_000_000
# Both databases stop at a signed 64-bit integer: a larger id or offset must be a 422, not a 500.
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


class Paging(Schema):
    """`limit` and `offset` of a list operation, bounded so that no value can overflow a query."""

    limit: int = Field(25, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class OrgAuth(AuthBase):
    """Bearer token (resolved by OrgMiddleware) or session; the caller must be an active member of
    the current organisation and, if `perm` is given, hold it there."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, perm: Perm | None) -> None:
        self.perm = perm
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        membership = getattr(request, "membership", None)
        if not request.user.is_authenticated or membership is None:
            return None
        is_session = getattr(request, "api_token", None) is None
        is_unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if is_session and is_unsafe and check_csrf(request) is not None:
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header.")
        if self.perm is not None and not membership.has_perm(self.perm):
            raise HttpError(403, f"Your role does not allow this ({self.perm.value}).")
        return membership


class OrgRouter(Router):
    """A router whose operations all declare their permission (or `public=True`)."""

    def operation(
        self,
        methods: list[str],
        path: str,
        *,
        perm: Perm | None,
        public: bool = False,
        **kwargs: Any,
    ) -> Any:
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        if public:
            extra[PUBLIC_KEY] = True
            kwargs["auth"] = None
        else:
            extra[PERMISSION_KEY] = perm.value if perm is not None else MEMBER
            kwargs["auth"] = OrgAuth(perm)
        return self.api_operation(methods, path, openapi_extra=extra, **kwargs)

    def get_op(self, path: str, *, perm: Perm | None, **kwargs: Any) -> Any:
        return self.operation(["GET"], path, perm=perm, **kwargs)

    def post_op(self, path: str, *, perm: Perm | None, **kwargs: Any) -> Any:
        return self.operation(["POST"], path, perm=perm, **kwargs)

    def patch_op(self, path: str, *, perm: Perm | None, **kwargs: Any) -> Any:
        return self.operation(["PATCH"], path, perm=perm, **kwargs)

    def delete_op(self, path: str, *, perm: Perm | None, **kwargs: Any) -> Any:
        return self.operation(["DELETE"], path, perm=perm, **kwargs)


class BoundedPagination(LimitOffsetPagination):
    """django-ninja's limit/offset pagination with our bounds (its own offset is unbounded)."""

    class Input(Paging):
        pass
