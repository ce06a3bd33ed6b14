"""API tokens: created once (shown once), stored as a hash, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F
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


# The membership's own columns, read beside the token in resolve_token's single query.
_MEMBERSHIP_COLUMNS = ("id", "role", "team", "is_active", "created_at")


def resolve_token(raw: str) -> TokenGrant | None:
    """The active token matching `raw` and its user's active membership in the token's organisation,
    or None. One query, on every request: revoking the token or deactivating the user, the
    membership or the organisation takes effect on the very next request (nothing is cached)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    found = (
        ApiToken.objects.select_related("user", "org")
        .filter(
            token_hash=hash_token(raw),
            revoked_at__isnull=True,
            user__is_active=True,
            org__is_active=True,
            # One filter() call: the same membership row must be the token's org and active.
            user__memberships__org=F("org"),
            user__memberships__is_active=True,
        )
        .annotate(**{f"membership_{c}": F(f"user__memberships__{c}") for c in _MEMBERSHIP_COLUMNS})
    )[:1]
    token = next(iter(found), None)
    if token is None:
        return None
    membership = Membership.from_db(
        token._state.db,
        ["user_id", "org_id", *_MEMBERSHIP_COLUMNS],
        [
            token.user_id,
            token.org_id,
            *(getattr(token, f"membership_{c}") for c in _MEMBERSHIP_COLUMNS),
        ],
    )
    membership.user = token.user
    membership.org = token.org
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return TokenGrant(token=token, membership=membership)


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw` whose user is still an active member, or None."""
    grant = resolve_token(raw)
    return grant.token if grant is not None else None
