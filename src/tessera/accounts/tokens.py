"""API tokens: created once (shown once), stored as a hash, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from weakref import WeakKeyDictionary

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
    """What a valid bearer token lets its holder act as: the token and the membership it acts in.
    `org_setting` is what the lookup's `org_setting` column returned (see `resolve_token`)."""

    token: ApiToken
    membership: Membership
    org_setting: str | None = None


def resolve_token(
    raw: str, *, org_setting: Callable[[str], str] | None = None
) -> TokenGrant | None:
    """The active token matching `raw` and its user's active membership in the token's organisation,
    or None. One query, on every request: revoking the token or deactivating the user, the
    membership or the organisation takes effect on the very next request (nothing is cached).

    `org_setting(column)`, if given, is a select-list expression over the token's organisation id
    column that the same statement evaluates (`OrgChosenByStatement.setting`: it sets the
    organisation of the request's transaction); its value comes back as `grant.org_setting`."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    db = connections[router.db_for_read(ApiToken)]
    plan = _plan(db)
    sql = plan.sql
    if org_setting is not None:
        sql = sql.replace(_EXTRA_COLUMN, org_setting(plan.org_id_column), 1)
    with db.cursor() as cursor:
        cursor.execute(sql, [hash_token(raw)])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded = plan.load(db, row)
    token, user = cast(ApiToken, loaded[0]), cast(User, loaded[1])
    org, membership = cast(Organisation, loaded[2]), cast(Membership, loaded[3])
    token.user = membership.user = user
    token.org = membership.org = org
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    setting = row[-1] if org_setting is not None else None
    return TokenGrant(token=token, membership=membership, org_setting=setting)


# resolve_token() runs before every API request, so it is one hand-written join rather than the
# ORM's (which spent about four times the CPU building the same statement on each request). The
# columns come from the models, and rows are loaded with the database's own converters, as the ORM
# would; the statement and each column's converters are worked out once per connection.
_JOINED: tuple[tuple[str, type[Model]], ...] = (
    ("t", ApiToken),
    ("u", User),
    ("o", Organisation),
    ("m", Membership),
)
_EXTRA_COLUMN = "NULL AS org_setting"


@dataclass(frozen=True)
class _Plan:
    sql: str
    org_id_column: str
    # Per model: the model, its attribute names, and the columns that need converting (position,
    # converters, expression).
    models: tuple[tuple[type[Model], list[str], list[tuple[int, list[Any], Any]]], ...]

    def load(self, db: BaseDatabaseWrapper, row: tuple[Any, ...]) -> list[Model]:
        loaded, start = [], 0
        for model, attnames, converted in self.models:
            values = list(row[start : start + len(attnames)])
            for i, converters, column in converted:
                for convert in converters:
                    values[i] = convert(values[i], column, db)
            loaded.append(model.from_db(db.alias, attnames, values))
            start += len(attnames)
        return loaded


_plans: WeakKeyDictionary[BaseDatabaseWrapper, _Plan] = WeakKeyDictionary()


def _plan(db: BaseDatabaseWrapper) -> _Plan:
    plan = _plans.get(db)
    if plan is None:
        plan = _plans[db] = _make_plan(db)
    return plan


def _make_plan(db: BaseDatabaseWrapper) -> _Plan:
    quote = db.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(field.column)}"
        for alias, model in _JOINED
        for field in model._meta.concrete_fields
    )
    token, user, org, membership = (quote(model._meta.db_table) for _alias, model in _JOINED)
    sql = (
        f"SELECT {columns}, {_EXTRA_COLUMN} FROM {token} t "  # noqa: S608 (names from the models)
        f"JOIN {user} u ON u.id = t.user_id "
        f"JOIN {org} o ON o.id = t.org_id "
        f"JOIN {membership} m ON m.user_id = t.user_id AND m.org_id = t.org_id "
        "WHERE t.token_hash = %s AND t.revoked_at IS NULL "
        "AND u.is_active AND o.is_active AND m.is_active"
    )
    models = []
    for alias, model in _JOINED:
        fields = model._meta.concrete_fields
        converted = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            converters = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if converters:
                converted.append((i, converters, column))
        models.append((model, [f.attname for f in fields], converted))
    return _Plan(sql=sql, org_id_column=f"t.{quote('org_id')}", models=tuple(models))


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw` whose user is still an active member, or None."""
    grant = resolve_token(raw)
    return grant.token if grant is not None else None
