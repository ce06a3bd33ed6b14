"""The `tessera` command. Sub-commands call the same services as the web interface and the API."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.dev")
    import django

    django.setup()


def with_django(func: F) -> F:
    """Set Django up before the command runs, and turn domain errors into clear messages."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from django.core.exceptions import ImproperlyConfigured, ValidationError
        from django.core.management.base import CommandError

        try:
            _setup_django()
            return func(*args, **kwargs)
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            for field, problems in messages.items():
                for problem in problems:
                    click.echo(f"Error: {field + ': ' if field else ''}{problem}", err=True)
            sys.exit(2)
        except ImproperlyConfigured as exc:
            click.echo(f"Configuration error: {exc}", err=True)
            sys.exit(2)
        except CommandError as exc:
            # What `manage.py` prints for a failed command (e.g. failing system checks): the
            # message, not a traceback.
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tessera")
def main() -> None:
    """Tessera: case management and data collaboration against human trafficking."""


@main.command()
@click.option("--no-serve", is_flag=True, help="Prepare the demo but do not start the server.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_django
def demo(no_serve: bool, host: str, port: int) -> None:
    """Migrate, load the demo organisations and people, print the logins, then serve."""
    from tessera.demo.loader import load_demo, print_logins
    from tessera.vault.keyring import ensure_key_file

    if ensure_key_file():
        click.echo("Created a master key file for the embedded demo.")
    _migrate()
    logins = load_demo()
    print_logins(logins, echo=click.echo)
    if not no_serve:
        _serve(host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_django
def serve(host: str, port: int) -> None:
    """Serve the web interface and the API (waitress)."""
    _serve(host, port)


def _serve(host: str, port: int) -> None:
    from pathlib import Path

    from django.conf import settings
    from waitress import serve as waitress_serve

    # WhiteNoise serves from the apps' folders; it only wants the collected folder to exist.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

    from tessera.wsgi import application

    click.echo(f"Tessera is serving on http://{host}:{port}/ (Ctrl+C to stop)")
    waitress_serve(application, host=host, port=port, threads=8, ident="tessera")


@main.command()
@with_django
def migrate() -> None:
    """Apply database migrations (and row-level security on PostgreSQL)."""
    _migrate()


def _migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    click.echo("Database is up to date.")


@main.command()
@click.option("--batch", is_flag=True, help="Process the queue once and exit.")
@with_django
def worker(batch: bool) -> None:
    """Run background tasks (imports, exports, linkage) from the database queue."""
    from django.core.management import call_command

    options = {"batch": True} if batch else {}
    call_command("db_worker", **options)


@main.group()
def org() -> None:
    """Organisations (tenants)."""


@org.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's display name.")
@click.option("--country", default="", help="ISO 3166-1 alpha-2 country code, e.g. GB.")
@with_django
def org_create(slug: str, name: str, country: str) -> None:
    """Create an organisation with its own keys and audit chain."""
    from tessera.tenancy.models import Organisation
    from tessera.tenancy.services import create_organisation

    if Organisation.objects.filter(slug=slug).exists():
        raise click.ClickException(f"An organisation with the slug {slug!r} already exists.")
    created = create_organisation(slug=slug, name=name, shipping_country=country.upper())
    click.echo(f"Created organisation {created.slug} ({created.name}).")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="Slug of the organisation to join.")
@click.option(
    "--role",
    required=True,
    help="org_admin, supervisor, caseworker, helpline_advisor, analyst or auditor.",
)
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--totp",
    is_flag=True,
    help="Enrol an authenticator app and print its secret (needed before `tessera token create`).",
)
@with_django
def user_create(
    email: str, org_slug: str, role: str, name: str, password_stdin: bool, totp: bool
) -> None:
    """Create a user and add them to an organisation (or add an existing user to it)."""
    from allauth.mfa.adapter import get_adapter as get_mfa_adapter
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from tessera.accounts.models import User
    from tessera.accounts.services import create_user, enrol_totp
    from tessera.tenancy.roles import Role
    from tessera.tenancy.services import add_member

    organisation = _org_by_slug(org_slug)
    if role not in Role.values:
        raise click.ClickException(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."
        )
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    if password_stdin and not password:
        raise click.ClickException("No password was given on standard input.")
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email.strip()).first()
        if existing is not None and password is not None:
            raise click.ClickException(
                f"{existing.email} already exists and keeps their password; add them without "
                "--password-stdin, or use `tessera manage changepassword`."
            )
        try:
            account = existing or create_user(email=email, password=password, display_name=name)
            add_member(org=organisation, user=account, role=role)
            totp_secret = enrol_totp(user=account) if totp else None
        except ValidationError as exc:
            raise click.ClickException(" ".join(exc.messages)) from exc
    verb = "Added existing user" if existing else "Created user"
    click.echo(f"{verb} {account.email} to {organisation.slug} as {role}.")
    if totp_secret is not None:
        uri = get_mfa_adapter().build_totp_url(account, totp_secret)
        click.echo(f"Authenticator secret (shown once): {totp_secret}")
        click.echo(f"Or scan this URI as a QR code: {uri}")
    if password is None and existing is None:
        click.echo("No password set: use `tessera manage changepassword` before logging in.")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "email", required=True)
@click.option("--org", "org_slug", required=True)
@click.option("--name", default="", help="What the token is for.")
@with_django
def token_create(email: str, org_slug: str, name: str) -> None:
    """Print a new API token on standard output (and nothing else). It is not stored in clear."""
    from tessera.accounts.models import User
    from tessera.accounts.tokens import TokenError, create_token

    organisation = _org_by_slug(org_slug)
    account = User.objects.filter(email__iexact=email.strip()).first()
    if account is None:
        raise click.ClickException(f"No user with the e-mail {email}.")
    try:
        _row, secret = create_token(user=account, org=organisation, name=name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(secret)


@main.group()
def audit() -> None:
    """The tamper-evident audit trail."""


@audit.command("verify")
@click.option("--org", "org_slug", default=None, help="Verify one organisation only.")
@with_django
def audit_verify(org_slug: str | None) -> None:
    """Exit 0 when every hash chain is intact; otherwise name the first broken event and exit 1."""
    from tessera.audit.verify import verify_all

    organisation = _org_by_slug(org_slug) if org_slug else None
    reports = verify_all(organisation)
    for report in reports:
        click.echo(str(report), err=not report.ok)
    if not all(report.ok for report in reports):
        sys.exit(1)


@main.group()
def keys() -> None:
    """Master key and data keys."""


@keys.command("rotate")
@click.option(
    "--prune", is_flag=True, help="Key file only: forget previous master keys afterwards."
)
@with_django
def keys_rotate(prune: bool) -> None:
    """Re-wrap every organisation's data keys under a new master key, without downtime.

    With TESSERA_MASTER_KEY, set the new key there and the old one in TESSERA_PREVIOUS_MASTER_KEYS
    first (on every process), then run this. With the embedded key file, a new key is generated.
    """
    from tessera.vault.rotation import rotate_master_key

    result = rotate_master_key(prune=prune)
    click.echo(result)


@main.command("check")
@click.option("--deploy", is_flag=True, help="Also run the deployment checks.")
@with_django
def check(deploy: bool) -> None:
    """Run Django's system checks (tenancy, security, configuration)."""
    from django.core.management import call_command

    call_command("check", deploy=deploy, fail_level="WARNING")


@main.command("manage", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Pass a command through to Django's manage.py."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tessera manage", *args])


def _mount_privacy() -> None:
    # The privacy library is an optional extra; without it `tessera privacy` is simply absent.
    try:
        from tessera.privacy.cli import privacy_cli
    except ImportError:
        return
    main.add_command(privacy_cli, name="privacy")


def _org_by_slug(slug: str) -> Any:
    from tessera.tenancy.models import Organisation

    found = Organisation.objects.filter(slug=slug).first()
    if found is None:
        raise click.ClickException(f"No organisation with the slug {slug!r}.")
    return found


def _mount_exchange() -> None:
    # `python -m tessera.cli` runs this module as __main__; the exchange commands import it by name.
    sys.modules.setdefault("tessera.cli", sys.modules[__name__])
    from tessera.exchange.cli import mount

    mount(main)


_mount_privacy()
_mount_exchange()

if __name__ == "__main__":
    main()
