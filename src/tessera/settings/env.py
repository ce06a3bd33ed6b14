"""Typed readers for environment variables: settings never read files of their own."""

from __future__ import annotations

import os
from pathlib import Path

from dj_database_url import DBConfig
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"Environment variable {name} must be an integer.") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def data_dir() -> Path:
    """Where the embedded deployment keeps its SQLite file and key files."""
    path = Path(env_str("TESSERA_DATA_DIR", str(Path.cwd() / "data"))).expanduser().resolve()
    return path


def postgres_connection_options(database: DBConfig) -> None:
    """Persistent connections and server-side prepared statements for a PostgreSQL `database`.

    A request's statements are few and the same each time (the token's join, kept case and lookup
    statements, the audit append), so planning them once per connection saves PostgreSQL's parse and
    plan on every request; that only pays with connections that outlive a request. Behind a pooler
    in transaction mode that cannot keep prepared statements (PgBouncer before 1.21, or without
    `max_prepared_statements`), set TESSERA_DB_PREPARED_STATEMENTS=false.
    """
    if database.get("ENGINE") != "django.db.backends.postgresql":
        return
    database["CONN_MAX_AGE"] = env_int("TESSERA_DB_CONN_MAX_AGE", 300, minimum=0)
    database["CONN_HEALTH_CHECKS"] = True
    options = dict(database.get("OPTIONS") or {})
    if env_bool("TESSERA_DB_PREPARED_STATEMENTS", True):
        options.setdefault("server_side_binding", True)
        options.setdefault(
            "prepare_threshold", env_int("TESSERA_DB_PREPARE_THRESHOLD", 5, minimum=0)
        )
    database["OPTIONS"] = options
