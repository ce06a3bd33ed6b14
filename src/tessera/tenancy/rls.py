"""PostgreSQL row-level security: the database's own wall between organisations.

Applied after every migration (idempotently), so a new tenant model is protected without a
hand-written migration. Policies read the transaction-local setting `tessera.org_id`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from tessera.tenancy.context import ORG_SETTING, SYSTEM_MARKER
from tessera.tenancy.scoping import tenant_models

logger = logging.getLogger(__name__)

POLICY_NAME = "tessera_org_isolation"
APPEND_ONLY_TABLES = ("audit_auditevent",)
# Functions that run with their owner's rights: their migrations revoke them from PUBLIC, and only
# the application role may call them.
DEFINER_FUNCTIONS = ("tessera_analyze_people()",)

_CURRENT_ORG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION tessera_current_org() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('{ORG_SETTING}', true) ~ '^[0-9]+$'
                THEN current_setting('{ORG_SETTING}', true)::bigint END
$$;
"""

_POLICY_EXPRESSIONS = {
    "org": "org_id = tessera_current_org()",
    "org_or_system": (
        "org_id = tessera_current_org() OR "
        f"(org_id IS NULL AND current_setting('{ORG_SETTING}', true) = '{SYSTEM_MARKER}')"
    ),
}


def quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def apply_row_level_security(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    app_role = settings.TESSERA_APP_DB_ROLE
    with connection.cursor() as cursor:
        cursor.execute(_CURRENT_ORG_FUNCTION)
        existing = set(connection.introspection.table_names(cursor))
        for model in tenant_models():
            table = model._meta.db_table
            if table not in existing:
                continue
            expression = _POLICY_EXPRESSIONS[model.tessera_rls]  # type: ignore[attr-defined]
            quoted = quote(connection, table)
            cursor.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {quoted}")
            cursor.execute(
                f"CREATE POLICY {POLICY_NAME} ON {quoted} USING ({expression}) "
                f"WITH CHECK ({expression})"
            )
        _grant_application_role(cursor, connection, app_role, existing)


def _grant_application_role(
    cursor: Any, connection: BaseDatabaseWrapper, app_role: str, tables: set[str]
) -> None:
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role])
    row = cursor.fetchone()
    role = quote(connection, app_role)
    if row is None:
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
        )
        can_create = cursor.fetchone()[0]
        if not can_create:
            logger.warning(
                "Role %s does not exist and cannot be created; grant it yourself.", app_role
            )
            return
        # NOLOGIN: an operator gives it LOGIN and a password (docs/operations.md). Parallel test
        # databases on one cluster may race to create the (cluster-wide) role.
        cursor.execute(
            "DO $$ BEGIN "
            f"CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    elif row[0] or row[1]:
        raise RuntimeError(
            f"The application role {app_role} is a superuser or has BYPASSRLS: "
            "row-level security would not apply to it."
        )
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    cursor.execute(f"GRANT EXECUTE ON FUNCTION tessera_current_org() TO {role}")
    for function in DEFINER_FUNCTIONS:
        cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
        if cursor.fetchone()[0]:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
    for table in APPEND_ONLY_TABLES:
        if table in tables:
            cursor.execute(
                f"REVOKE UPDATE, DELETE, TRUNCATE ON {quote(connection, table)} FROM {role}"
            )
