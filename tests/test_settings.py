"""Settings: production is clean under `check --deploy`, refuses to start half-configured, and no
settings module but the test one can switch a second factor off."""

from __future__ import annotations

import ast
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from tessera.settings import env

SETTINGS_DIR = Path(__file__).resolve().parent.parent / "src" / "tessera" / "settings"
SOURCE_DIR = SETTINGS_DIR.parent
TESSERA = Path(sys.executable).parent / "tessera"

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "tessera.settings.prod",
    "TESSERA_SECRET_KEY": "k" * 20 + "-not-a-real-secret-but-long-and-varied-0123456789",
    "TESSERA_MASTER_KEY": base64.b64encode(bytes(range(32))).decode(),
    # Nothing listens on port 9: the checks must not need a database connection.
    "DATABASE_URL": "postgres://tessera_app:secret@127.0.0.1:9/tessera",
    "TESSERA_ALLOWED_HOSTS": "tessera.example.org",
}


def _run(
    args: list[str], overrides: dict[str, str], tmp_path: Path, *, drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TESSERA_", "DJANGO_", "DATABASE_URL"))
    }
    environment |= {"TESSERA_DATA_DIR": str(tmp_path)} | overrides
    for name in drop:
        environment.pop(name, None)
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def _prod_settings(tmp_path: Path, **overrides: str) -> dict[str, object]:
    """Selected production settings, read in a fresh interpreter."""
    names = [
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN",
        "PASSWORD_HASHERS",
        "AXES_ENABLED",
    ]
    script = (
        "import json\nfrom django.conf import settings\n"
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    result = _run([sys.executable, "-c", script], PROD_ENV | overrides, tmp_path)
    assert result.returncode == 0, result.stderr
    values: dict[str, object] = json.loads(result.stdout)
    return values


# --- Production --------------------------------------------------------------------------------


def test_check_deploy_is_clean_under_production_settings(tmp_path: Path) -> None:
    result = _run([str(TESSERA), "check", "--deploy"], PROD_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""


def test_check_deploy_fails_on_a_warning(tmp_path: Path) -> None:
    result = _run(
        [str(TESSERA), "check", "--deploy"],
        PROD_ENV | {"TESSERA_SSL_REDIRECT": "false"},
        tmp_path,
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr


@pytest.mark.parametrize(
    ("drop", "override", "message"),
    [
        ("TESSERA_SECRET_KEY", {}, "TESSERA_SECRET_KEY is required"),
        ("TESSERA_MASTER_KEY", {}, "TESSERA_MASTER_KEY is required"),
        ("DATABASE_URL", {}, "DATABASE_URL to name a PostgreSQL database"),
        ("", {"DATABASE_URL": "sqlite:///tessera.sqlite3"}, "PostgreSQL"),
        ("", {"TESSERA_SECRET_KEY": ""}, "TESSERA_SECRET_KEY is required"),
    ],
    ids=["no secret key", "no master key", "no database", "sqlite database", "empty secret key"],
)
def test_production_refuses_to_start_half_configured_with_a_clear_message(
    tmp_path: Path, drop: str, override: dict[str, str], message: str
) -> None:
    drops = (drop,) if drop else ()
    result = _run([str(TESSERA), "check"], PROD_ENV | override, tmp_path, drop=drops)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "secret.key").exists(), "production never writes a key file"


def test_production_is_https_only_without_debug_even_when_asked(tmp_path: Path) -> None:
    values = _prod_settings(tmp_path, TESSERA_DEBUG="true")
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert isinstance(values["SECURE_HSTS_SECONDS"], int)
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN"] is False
    assert values["AXES_ENABLED"] in (None, True), "lockout is on unless a test turns it off"
    hashers = values["PASSWORD_HASHERS"]
    assert isinstance(hashers, list)
    assert hashers[0].endswith("Argon2PasswordHasher")


def test_the_embedded_shape_creates_its_secret_key_readable_by_its_owner_only(
    tmp_path: Path,
) -> None:
    script = "from django.conf import settings; print(len(settings.SECRET_KEY))"
    overrides = {"DJANGO_SETTINGS_MODULE": "tessera.settings.dev"}
    first = _run([sys.executable, "-c", script], overrides, tmp_path)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert int(first.stdout) >= 50
    key = key_file.read_text()
    assert _run([sys.executable, "-c", script], overrides, tmp_path).returncode == 0
    assert key_file.read_text() == key, "the key is kept, not regenerated"


# --- Second-factor bypasses --------------------------------------------------------------------

BYPASS_SETTINGS = frozenset({"MFA_TOTP_INSECURE_BYPASS_CODE"})


def _is_bypass(name: str) -> bool:
    return name in BYPASS_SETTINGS or "BYPASS" in name


def _assigned_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize(
    "module", sorted(p.name for p in SETTINGS_DIR.glob("*.py") if p.name != "test.py")
)
def test_no_settings_module_but_the_test_one_defines_an_mfa_bypass(module: str) -> None:
    bypasses = {name for name in _assigned_names(SETTINGS_DIR / module) if _is_bypass(name)}
    assert not bypasses, f"settings/{module} defines {sorted(bypasses)}"


def test_no_application_code_mentions_an_mfa_bypass() -> None:
    offenders = [
        str(path.relative_to(SOURCE_DIR))
        for path in SOURCE_DIR.rglob("*.py")
        if path != SETTINGS_DIR / "test.py"
        and any(name in path.read_text() for name in BYPASS_SETTINGS)
    ]
    assert offenders == []


def test_the_running_settings_have_no_bypass_outside_tests() -> None:
    from django.conf import settings

    assert settings.SETTINGS_MODULE == "tessera.settings.test"
    code = getattr(settings, "MFA_TOTP_INSECURE_BYPASS_CODE", None)
    if code is not None:
        assert "MFA_TOTP_INSECURE_BYPASS_CODE" in _assigned_names(SETTINGS_DIR / "test.py")


# --- Reading the environment -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_booleans_are_read_in_the_usual_spellings(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("TESSERA_SOME_FLAG", value)
    assert env.env_bool("TESSERA_SOME_FLAG", not expected) is expected


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (lambda: env.env_bool("TESSERA_X", False), "maybe", "must be true or false"),
        (lambda: env.env_int("TESSERA_X", 1), "ten", "must be an integer"),
        (lambda: env.env_str("TESSERA_X"), "", "TESSERA_X is required"),
    ],
    ids=["bool", "int", "required string"],
)
def test_bad_environment_values_are_refused_with_their_name(
    monkeypatch: pytest.MonkeyPatch, reader: object, value: str, message: str
) -> None:
    monkeypatch.setenv("TESSERA_X", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader()  # type: ignore[operator]


def test_lists_are_comma_separated_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_HOSTS", " a.example.org, ,b.example.org ")
    assert env.env_list("TESSERA_HOSTS", []) == ["a.example.org", "b.example.org"]


# --- PostgreSQL connections ---------------------------------------------------------------------


def _postgres(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, object]:
    for name in (
        "TESSERA_DB_CONN_MAX_AGE",
        "TESSERA_DB_PREPARED_STATEMENTS",
        "TESSERA_DB_PREPARE_THRESHOLD",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    database: Any = {"ENGINE": "django.db.backends.postgresql", "NAME": "t"}
    env.postgres_connection_options(database)
    return database


def test_postgres_connections_persist_and_prepare_their_statements_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = _postgres(monkeypatch)
    assert database["CONN_MAX_AGE"] == 300
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_prepared_statements_can_be_switched_off_for_a_transaction_pooler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = _postgres(
        monkeypatch, TESSERA_DB_PREPARED_STATEMENTS="false", TESSERA_DB_CONN_MAX_AGE="0"
    )
    assert database["CONN_MAX_AGE"] == 0
    assert database["OPTIONS"] == {}


def test_sqlite_connections_are_left_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    database: Any = {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"x": 1}}
    env.postgres_connection_options(database)
    assert database == {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"x": 1}}


def test_production_settings_keep_postgres_connections_and_prepare_statements(
    tmp_path: Path,
) -> None:
    script = (
        "import json\nfrom django.conf import settings\nd = settings.DATABASES['default']\n"
        "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], d['OPTIONS']]))"
    )
    result = _run([sys.executable, "-c", script], PROD_ENV, tmp_path)
    assert result.returncode == 0, result.stderr
    expected = [300, True, {"server_side_binding": True, "prepare_threshold": 5}]
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize("name", ["TESSERA_DB_CONN_MAX_AGE", "TESSERA_DB_PREPARE_THRESHOLD"])
def test_negative_connection_settings_are_refused_with_their_name(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"{name} must be at least 0"):
        _postgres(monkeypatch, **{name: "-1"})
