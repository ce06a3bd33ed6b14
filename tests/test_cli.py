"""The `tessera` command: clear errors that write nothing, machine-readable output, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from click.testing import CliRunner, Result
from django.test import override_settings

from tessera.accounts.models import ApiToken, User
from tessera.accounts.tokens import authenticate_token
from tessera.audit.models import AuditEvent
from tessera.cases.models import Person
from tessera.cli import main
from tessera.demo.loader import DEMO_PASSWORD
from tessera.tenancy import checks as tenancy_checks
from tessera.tenancy.context import org_context, system_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role
from tessera.vault.keyring import encode_key, load_keyring
from tessera.vault.models import OrgKey

from .conftest import TEST_PASSWORD, World, make_member
from .support import forget_used_totp_codes as forget_used_totp_codes
from .support import totp_code

TESSERA = Path(sys.executable).parent / "tessera"

pytestmark = pytest.mark.usefixtures("forget_used_totp_codes")


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def _audit_counts() -> dict[str, int]:
    counts = {}
    for org in Organisation.objects.order_by("pk"):
        with org_context(org):
            counts[org.slug] = AuditEvent.objects.count()
    with system_context():
        counts["system"] = AuditEvent.objects.count()
    return counts


def _snapshot() -> dict[str, object]:
    """Everything a failed command must leave as it was."""
    return {
        "orgs": sorted(Organisation.objects.values_list("slug", flat=True)),
        "users": sorted(User.objects.values_list("email", flat=True)),
        "memberships": sorted(Membership.objects.values_list("user__email", "org__slug", "role")),
        "tokens": ApiToken.objects.count(),
        "audit": _audit_counts(),
    }


@pytest.fixture(autouse=True)
def _fresh_keyring() -> Iterator[None]:
    load_keyring.cache_clear()
    yield
    load_keyring.cache_clear()


# --- org create ----------------------------------------------------------------------------------


def test_org_create_makes_an_organisation_with_keys_and_an_audit_chain(db: None) -> None:
    result = run("org", "create", "gamma", "--name", "Gamma Legal Aid", "--country", "ro")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created organisation gamma (Gamma Legal Aid).\n"
    org = Organisation.objects.get(slug="gamma")
    assert org.shipping_country == "RO"
    with org_context(org):
        assert OrgKey.objects.count() == 1
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["org.create"]


def test_org_create_with_a_taken_slug_fails_clearly_and_writes_nothing(world: World) -> None:
    before = _snapshot()
    result = run("org", "create", world.a.slug, "--name", "Impostor")
    assert result.exit_code != 0
    assert f"An organisation with the slug '{world.a.slug}' already exists." in result.stderr
    assert result.stdout == ""
    assert _snapshot() == before
    assert Organisation.objects.get(slug=world.a.slug).name == world.a.name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Not A Slug", "--name", "X"], "lower-case letters"),
        (["-starts-with-hyphen", "--name", "X"], "No such option"),
        (["delta", "--name", "X", "--country", "GBR"], "ISO 3166-1"),
        (["delta", "--name", ""], "name"),
    ],
)
def test_org_create_with_invalid_values_fails_clearly_and_writes_nothing(
    world: World, args: list[str], message: str
) -> None:
    before = _snapshot()
    result = run("org", "create", *args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _snapshot() == before


# --- user create ---------------------------------------------------------------------------------


def test_user_create_with_a_password_from_stdin_can_log_in(world: World) -> None:
    result = run(
        "user",
        "create",
        "New.Person@Alpha.test",
        "--org",
        world.a.slug,
        "--role",
        "caseworker",
        "--password-stdin",
        stdin=f"{TEST_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    user = User.objects.get(email__iexact="new.person@alpha.test")
    assert user.check_password(TEST_PASSWORD)
    assert Membership.objects.get(user=user).role == Role.CASEWORKER
    assert TEST_PASSWORD not in result.output


def test_user_create_adds_an_existing_user_to_another_organisation(world: World) -> None:
    existing = world.user(world.a, Role.ANALYST)
    result = run("user", "create", existing.email, "--org", world.b.slug, "--role", "auditor")
    assert result.exit_code == 0, result.output
    assert "Added existing user" in result.stdout
    assert Membership.objects.get(user=existing, org=world.b).role == Role.AUDITOR
    assert User.objects.filter(email=existing.email).count() == 1


def test_user_create_refuses_a_password_for_an_existing_user_rather_than_ignore_it(
    world: World,
) -> None:
    existing = world.user(world.a, Role.ANALYST)
    before = _snapshot()
    result = run(
        "user",
        "create",
        existing.email,
        "--org",
        world.b.slug,
        "--role",
        "auditor",
        "--password-stdin",
        stdin="a-brand-new-password-77\n",
    )
    assert result.exit_code != 0
    assert "already exists and keeps their password" in result.stderr
    assert _snapshot() == before
    existing.refresh_from_db()
    assert existing.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--org", "alpha", "--role", "superuser"], None, "Unknown role 'superuser'"),
        (["--org", "nowhere", "--role", "caseworker"], None, "No organisation with the slug"),
        (
            ["--org", "alpha", "--role", "caseworker", "--password-stdin"],
            "short\n",
            "too short",
        ),
        (
            ["--org", "alpha", "--role", "caseworker", "--password-stdin"],
            "password1234\n",
            "too common",
        ),
        (["--org", "alpha", "--role", "caseworker", "--password-stdin"], "\n", "No password"),
    ],
    ids=["unknown role", "unknown org", "short password", "common password", "empty password"],
)
def test_user_create_with_bad_input_fails_clearly_and_writes_nothing(
    world: World, args: list[str], stdin: str | None, message: str
) -> None:
    before = _snapshot()
    result = run("user", "create", "someone@alpha.test", *args, stdin=stdin)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _snapshot() == before


def test_user_create_with_totp_enrols_a_factor_that_logs_in(world: World) -> None:
    result = run(
        "user", "create", "new@alpha.test", "--org", "alpha", "--role", "caseworker", "--totp"
    )
    assert result.exit_code == 0, result.output
    match = re.search(r"Authenticator secret \(shown once\): ([A-Z2-7]+)", result.stdout)
    assert match is not None
    account = User.objects.get(email="new@alpha.test")
    authenticator = Authenticator.objects.get(user=account, type=Authenticator.Type.TOTP)
    assert TOTP(authenticator).validate_code(totp_code(match.group(1)))


def test_user_create_with_totp_refuses_to_replace_an_existing_factor(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    before = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data
    result = run("user", "create", user.email, "--org", "beta", "--role", "analyst", "--totp")
    assert result.exit_code != 0
    assert "already has an authenticator app" in result.stderr
    assert Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data == before
    assert not Membership.objects.filter(user=user, org=world.b).exists()


def test_user_create_with_an_invalid_e_mail_fails_clearly(world: World) -> None:
    before = _snapshot()
    result = run("user", "create", "not-an-email", "--org", "alpha", "--role", "caseworker")
    assert result.exit_code != 0
    assert "valid email" in result.stderr
    assert _snapshot() == before


# --- token create --------------------------------------------------------------------------------


def test_token_create_prints_exactly_one_line_the_token(world: World) -> None:
    user = world.user(world.a, Role.CASEWORKER)
    result = run("token", "create", "--user", user.email, "--org", world.a.slug, "--name", "ci")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert result.stdout == lines[0] + "\n"
    token = authenticate_token(lines[0])
    assert token is not None
    assert (token.user, token.org, token.name) == (user, world.a, "ci")


@pytest.mark.parametrize(
    ("email", "org", "message"),
    [
        ("nobody@alpha.test", "alpha", "No user with the e-mail"),
        ("caseworker@alpha.test", "beta", "is not an active member of beta"),
        ("caseworker@alpha.test", "nowhere", "No organisation with the slug"),
        ("nofactor@alpha.test", "alpha", "has no second factor"),
    ],
)
def test_token_create_refuses_clearly_and_prints_no_token(
    world: World, email: str, org: str, message: str
) -> None:
    make_member(world.a, Role.CASEWORKER, email="nofactor@alpha.test", mfa=False)
    result = run("token", "create", "--user", email, "--org", org)
    assert result.exit_code != 0
    assert message in result.stderr
    assert result.stdout == ""
    assert ApiToken.objects.count() == 0


# --- audit verify --------------------------------------------------------------------------------


def test_audit_verify_exits_0_when_every_chain_is_intact(world: World) -> None:
    result = run("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("org alpha:")
    assert all(line.endswith("intact") for line in result.stdout.splitlines())
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == {
        "org alpha",
        "org beta",
        "system",
    }


@pytest.mark.owner
def test_audit_verify_exits_1_and_names_the_first_altered_event(world: World) -> None:
    with org_context(world.b):
        event = AuditEvent.objects.order_by("seq")[1]
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    result = run("audit", "verify")
    assert result.exit_code == 1
    assert f"org beta: {event.seq} events, BROKEN: event #{event.seq}" in result.stderr
    assert "org alpha" in result.stdout
    assert "org beta" not in result.stdout

    only_alpha = run("audit", "verify", "--org", world.a.slug)
    assert only_alpha.exit_code == 0
    assert run("audit", "verify", "--org", world.b.slug).exit_code == 1


def test_audit_verify_of_an_unknown_organisation_fails_clearly(world: World) -> None:
    result = run("audit", "verify", "--org", "nowhere")
    assert result.exit_code != 0
    assert "No organisation with the slug 'nowhere'" in result.stderr


# --- keys rotate ---------------------------------------------------------------------------------

NEW_MASTER_KEY = encode_key(bytes(range(32)))


def _person_in(org: Organisation, name: str) -> object:
    with org_context(org):
        return Person.objects.create(first_name=name).pk


def _first_name(org: Organisation, pk: object) -> str:
    with org_context(org):
        return str(Person.objects.get(pk=pk).first_name)


def test_keys_rotate_rewraps_every_organisation_under_the_new_environment_key(
    world: World,
) -> None:
    from django.conf import settings as django_settings

    old = django_settings.TESSERA_MASTER_KEY
    alice = _person_in(world.a, "Alina")
    bora = _person_in(world.b, "Bora")
    with override_settings(TESSERA_MASTER_KEY=NEW_MASTER_KEY, TESSERA_PREVIOUS_MASTER_KEYS=[old]):
        load_keyring.cache_clear()
        result = run("keys", "rotate")
        assert result.exit_code == 0, result.output
        assert "Re-wrapped 2 organisation key set(s)" in result.stdout
        new_id = load_keyring().current.key_id
    with override_settings(TESSERA_MASTER_KEY=NEW_MASTER_KEY, TESSERA_PREVIOUS_MASTER_KEYS=[]):
        load_keyring.cache_clear()
        from tessera.vault.keys import clear_key_caches

        clear_key_caches()
        assert _first_name(world.a, alice) == "Alina"
        assert _first_name(world.b, bora) == "Bora"
        for org in (world.a, world.b):
            with org_context(org):
                assert OrgKey.objects.get().master_key_id == new_id
        with system_context():
            assert AuditEvent.objects.filter(action="keys.rotate", object_id=new_id).exists()


def test_keys_rotate_in_key_file_mode_keeps_data_readable_after_pruning(
    world: World, tmp_path: Path
) -> None:
    from django.conf import settings as django_settings

    from tessera.vault.keyring import write_key_file
    from tessera.vault.keys import clear_key_caches

    key_file = tmp_path / "master.keys"
    current = load_keyring().current.key
    write_key_file(key_file, current, [])
    alice = _person_in(world.a, "Alina")
    assert django_settings.TESSERA_MASTER_KEY
    with override_settings(TESSERA_MASTER_KEY="", TESSERA_MASTER_KEY_FILE=str(key_file)):
        load_keyring.cache_clear()
        result = run("keys", "rotate", "--prune")
        assert result.exit_code == 0, result.output
        assert "(key file)" in result.stdout
        load_keyring.cache_clear()
        clear_key_caches()
        keyring = load_keyring()
        assert keyring.current.key != current
        assert keyring.previous == ()
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        assert _first_name(world.a, alice) == "Alina"


# --- check and manage ----------------------------------------------------------------------------


def test_check_exits_0_on_a_sound_configuration(db: None) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "no issues" in result.stdout


def test_check_reports_a_failing_check_as_an_error_not_a_traceback(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend a global model were a tenant table: it has no `org`, so the tenancy check fails.
    monkeypatch.setattr(tenancy_checks, "tenant_models", lambda: [Organisation])
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code != 0
    assert "tessera.E001" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_manage_passes_commands_through_to_django(db: None) -> None:
    result = run("manage", "showmigrations", "accounts")
    assert result.exit_code == 0, result.output
    assert re.search(r"\[X\] 0001_initial", result.stdout)


# --- demo ----------------------------------------------------------------------------------------


def test_demo_twice_is_idempotent_and_prints_each_login_with_its_totp_secret(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test database is migrated already; migrating again inside the test's transaction would
    # alter tables that have pending trigger events on PostgreSQL. (The end-to-end test migrates.)
    monkeypatch.setattr("tessera.cli._migrate", lambda: None)
    first = run("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    after_first = _snapshot()
    second = run("demo", "--no-serve")
    assert second.exit_code == 0, second.output
    after_second = _snapshot()
    assert after_second["users"] == after_first["users"]
    assert after_second["orgs"] == after_first["orgs"] == ["fairlaw", "harbour", "northstar"]
    assert after_second["memberships"] == after_first["memberships"]
    assert first.stdout == second.stdout

    assert DEMO_PASSWORD in first.stdout
    logins = re.findall(
        r"^\s+(\S+@\S+\.demo)\s+(\S+)\s+(\S+)\s+([A-Z2-7]{32})$", first.stdout, re.M
    )
    assert len(logins) == 3 * len(Role) + 2
    assert {role for _email, _org, role, _secret in logins} == set(Role.values)
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    for email, secret in {(email, secret) for email, _org, _role, secret in logins}:
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD)
        totp = TOTP(Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP))
        assert totp.validate_code(totp_code(secret)), f"{email}: printed secret is not enrolled"


# --- End to end, as an operator runs it ----------------------------------------------------------


def _tessera(
    data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TESSERA_", "DJANGO_", "DATABASE_URL"))
    }
    env |= {"TESSERA_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "tessera.settings.dev"}
    return subprocess.run(
        [str(TESSERA), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=120,
        check=False,
    )


def test_an_operator_can_set_up_an_organisation_and_script_a_token(tmp_path: Path) -> None:
    assert _tessera(tmp_path, "migrate").returncode == 0
    # The embedded shape keeps its key in the data directory; `demo` would create it.
    from tessera.vault.keyring import write_key_file

    write_key_file(tmp_path / "master.keys", bytes(range(32)), [])
    created = _tessera(tmp_path, "org", "create", "gamma", "--name", "Gamma Legal Aid")
    assert created.returncode == 0, created.stderr
    user = _tessera(
        tmp_path,
        "user",
        "create",
        "admin@gamma.test",
        "--org",
        "gamma",
        "--role",
        "org_admin",
        "--password-stdin",
        "--totp",
        stdin=f"{TEST_PASSWORD}\n",
    )
    assert user.returncode == 0, user.stderr
    secret = re.search(r"Authenticator secret \(shown once\): ([A-Z2-7]+)", user.stdout)
    assert secret is not None, user.stdout
    assert f"secret={secret.group(1)}" in user.stdout  # the otpauth:// URI carries the same secret
    weak = _tessera(
        tmp_path,
        "user",
        "create",
        "weak@gamma.test",
        "--org",
        "gamma",
        "--role",
        "analyst",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode != 0
    assert "too short" in weak.stderr
    assert "Traceback" not in weak.stderr

    no_factor = _tessera(
        tmp_path, "user", "create", "plain@gamma.test", "--org", "gamma", "--role", "caseworker"
    )
    assert no_factor.returncode == 0, no_factor.stderr
    refused = _tessera(tmp_path, "token", "create", "--user", "plain@gamma.test", "--org", "gamma")
    assert refused.returncode != 0
    assert "has no second factor" in refused.stderr
    assert refused.stdout == ""

    token = _tessera(tmp_path, "token", "create", "--user", "admin@gamma.test", "--org", "gamma")
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"tsr_[A-Za-z0-9_-]{40,}\n", token.stdout)

    verify = _tessera(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "org gamma:" in verify.stdout

    migrations = _tessera(tmp_path, "manage", "showmigrations", "tenancy")
    assert migrations.returncode == 0
    assert "[X] 0001_initial" in migrations.stdout

    deploy = _tessera(tmp_path, "check", "--deploy")
    assert deploy.returncode != 0, "the embedded shape is not a production deployment"
    assert "security.W" in deploy.stderr
    assert "Traceback" not in deploy.stderr
