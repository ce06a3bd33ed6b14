"""API tokens: created once (shown once), stored as a hash, revocable, last use recorded."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
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


def authenticate_token(raw: str) -> ApiToken | None:
    """The active token matching `raw` whose user is still an active member, or None."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "org")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active or not token.org.is_active:
        return None
    if not Membership.objects.filter(user=token.user, org=token.org, is_active=True).exists():
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
