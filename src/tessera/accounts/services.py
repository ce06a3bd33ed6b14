"""Create staff accounts (passwords checked by the configured validators); user preferences."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from tessera.accounts.models import User
from tessera.audit.services import record
from tessera.tenancy.context import system_context


def create_user(*, email: str, password: str | None, display_name: str = "") -> User:
    """Create a login. Without a password the account cannot log in until one is set."""
    email = User.objects.normalize_email(email.strip())
    validate_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": f"A user with the e-mail {email} already exists."})
    user = User(email=email, display_name=display_name)
    if password is not None:
        validate_password(password, user)
    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, display_name=display_name)
        with system_context():
            record(action="user.create", object_type="User", object_id=user.pk)
    return user


def set_preferred_language(*, user: User, language: str) -> None:
    """Remember the interface language a user chose; later sessions start in it."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": f"{language} is not an available language."})
    if user.preferred_language == language:
        return
    with transaction.atomic():
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
        with system_context():
            record(
                action="user.update",
                object_type="User",
                object_id=user.pk,
                fields=["preferred_language"],
            )


def has_mfa(user_id: int) -> bool:
    return bool(
        Authenticator.objects.filter(
            user_id=user_id, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
    )


def enrol_totp(*, user: User) -> str:
    """Give `user` an authenticator-app second factor and return its secret (shown once, by the caller).

    For operators setting accounts up from the command line, where no browser can show a QR code;
    refused when the user already has one, so a script cannot silently replace someone's factor.
    """
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        raise ValidationError({"totp": f"{user.email} already has an authenticator app enrolled."})
    secret: str = generate_totp_secret()
    with transaction.atomic():
        TOTP.activate(user, secret)
        with system_context():
            record(action="user.mfa_enrol", object_type="User", object_id=user.pk)
    return secret
