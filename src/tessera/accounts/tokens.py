"""API tokens: created once (shown once), stored as a hash, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.utils import timezone

from tessera.accounts.models import ApiToken, User
from tessera.accounts.services import has_mfa
from tessera.audit.services import record
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation

TOKEN_PREFIX = "tsr_"  # noqa: S105  (a public marker, not a secret)
# Writing last_used_at on every request would turn every read into a write; a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ValueError):
    """A token could not be created for this user and organisation."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(*, user: User, org: Organisation, name: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns the row and the secret, which is never stored or shown again."""
    if not Membership.objects.filter(user=user, org=org, is_active=True).exists():
        raise TokenError(f"{user.email} is not an active member of {org.slug}.")
    if not has_mfa(user.pk):
        # A token is a login that skips the second factor; only someone who has one may mint it.
        raise TokenError(
            f"{user.email} has no second factor: enrol one first (Account > Two-factor "
            "authentication, or `tessera user create EMAIL --org SLUG --role ROLE --totp`)."
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with org_context(org), transaction.atomic():
        token = ApiToken.objects.create(
            user=user, org=org, name=name, prefix=raw[:12], token_hash=hash_token(raw)
        )
        record(action="token.create", object_type="ApiToken", object_id=token.pk)
    return token, raw


def revoke_token(*, token: ApiToken) -> None:
    with org_context(token.org), transaction.atomic():
        token.revoke()
        record(action="token.revoke", object_type="ApiToken", object_id=token.pk)


@dataclass(frozen=True)
class TokenGrant:
    """What a valid bearer token lets its holder act as: the token and the membership it acts in."""

    token: ApiToken
    membership: Membership


def resolve_token(raw: str) -> TokenGrant | None:
    """The active token matching `raw` and its user's active membership in the token's organisation,
    or None. One query, on every request: revoking the token or deactivating the user, the
    membership or the organisation takes effect on the very next request (nothing is cached)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    db = connections[router.db_for_read(ApiToken)]
    with db.cursor() as cursor:
        cursor.execute(_token_sql(db), [hash_token(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded = _load_joined_row(db, row)
    token, user = cast(ApiToken, loaded[0]), cast(User, loaded[1])
    org, membership = cast(Organisation, loaded[2]), cast(Membership, loaded[3])
    token.user = membership.user = user
    token.org = membership.org = org
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return TokenGrant(token=token, membership=membership)


# resolve_token() runs before every API request, so it is one hand-written join rather than the
# ORM's (which spent about four times the CPU building the same statement on each request). The
# columns come from the models, and rows are loaded with the database's own converters, as the ORM
# would.
_JOINED: tuple[tuple[str, type[Model]], ...] = (
    ("t", ApiToken),
    ("u", User),
    ("o", Organisation),
    ("m", Membership),
)


def _token_sql(db: BaseDatabaseWrapper) -> str:
    quote = db.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(field.column)}"
        for alias, model in _JOINED
        for field in model._meta.concrete_fields
    )
    token, user, org, membership = (quote(model._meta.db_table) for _alias, model in _JOINED)
    return (
        f"SELECT {columns} FROM {token} t "  # noqa: S608 (names from the models, value bound)
        f"JOIN {user} u ON u.id = t.user_id "
        f"JOIN {org} o ON o.id = t.org_id "
        f"JOIN {membership} m ON m.user_id = t.user_id AND m.org_id = t.org_id "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL "
        "AND u.is_active AND o.is_active AND m.is_active"
    )


def _load_joined_row(db: BaseDatabaseWrapper, row: tuple[Any, ...]) -> list[Model]:
    loaded, start = [], 0
    for alias, model in _JOINED:
        fields = model._meta.concrete_fields
        values = []
        for field, value in zip(fields, row[start : start + len(fields)], strict=True):
            column = field.get_col(alias)
            for convert in db.ops.get_db_converters(column) + column.get_db_converters(db):
                value = convert(value, column, db)
            values.append(value)
        loaded.append(model.from_db(db.alias, [f.attname for f in fields], values))
        start += len(fields)
    return loaded


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw` whose user is still an active member, or None."""
    grant = resolve_token(raw)
    return grant.token if grant is not None else None
