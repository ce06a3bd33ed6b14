"""PostgreSQL's own wall: row-level security, the application role's rights, append-only audit."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError

from tessera.audit.services import record
from tessera.cases.models import Person
from tessera.tenancy.context import ORG_SETTING, org_context
from tessera.tenancy.rls import POLICY_NAME
from tessera.tenancy.scoping import tenant_models

from .conftest import ON_POSTGRES, World

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES"
)

APP_ROLE = settings.TESSERA_APP_DB_ROLE


def fetch(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return list(cursor.fetchall())


def test_the_suite_runs_as_the_application_role(world: World) -> None:
    assert fetch("SELECT current_user") == [(APP_ROLE,)]


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_tenant_table_has_forced_row_level_security(db: None, model: type) -> None:
    table = model._meta.db_table
    rows = fetch(
        "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) "
        "FROM pg_class c WHERE c.relname = %s",
        [table],
    )
    assert rows, f"{table} does not exist"
    enabled, forced, owner = rows[0]
    assert enabled and forced, f"{table}: RLS enabled={enabled} forced={forced}"
    assert owner != APP_ROLE
    policies = fetch(
        "SELECT qual, with_check FROM pg_policies WHERE tablename = %s AND policyname = %s",
        [table, POLICY_NAME],
    )
    assert len(policies) == 1
    qual, with_check = policies[0]
    assert "tessera_current_org()" in str(qual) and "tessera_current_org()" in str(with_check)


def test_the_application_role_cannot_bypass_row_level_security(db: None) -> None:
    rows = fetch(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = %s",
        [APP_ROLE],
    )
    assert rows == [(False, False, False, False)]
    owned = fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = %s",
        [APP_ROLE],
    )
    assert owned == []


def test_raw_sql_without_an_organisation_setting_sees_no_rows(world: World) -> None:
    with org_context(world.a):
        Person.objects.create(first_name="A")
    with org_context(world.b):
        Person.objects.create(first_name="B")
    fetch("SELECT set_config(%s, '', true)", [ORG_SETTING])
    for model in tenant_models():
        table = connection.ops.quote_name(model._meta.db_table)
        assert fetch(f"SELECT count(*) FROM {table}") == [(0,)], table


def test_raw_sql_sees_only_the_current_organisations_rows(world: World) -> None:
    with org_context(world.a):
        Person.objects.create(first_name="A")
    with org_context(world.b):
        Person.objects.create(first_name="B")
        Person.objects.create(first_name="B2")
        assert fetch("SELECT count(*), min(org_id), max(org_id) FROM cases_person") == [
            (2, world.b.pk, world.b.pk)
        ]
        # A forged setting naming no number is treated as no organisation at all.
        fetch("SELECT set_config(%s, %s, true)", [ORG_SETTING, f"{world.a.pk} OR true"])
        assert fetch("SELECT count(*) FROM cases_person") == [(0,)]


def test_the_database_refuses_moving_a_row_into_another_organisation(world: World) -> None:
    with org_context(world.b):
        person = Person.objects.create(first_name="B")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            fetch("UPDATE cases_person SET org_id = %s WHERE id = %s", [world.a.pk, person.pk])
        assert fetch("SELECT org_id FROM cases_person WHERE id = %s", [person.pk]) == [
            (world.b.pk,)
        ]


def test_the_database_refuses_inserting_into_another_organisation(world: World) -> None:
    with org_context(world.b), pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            fetch(
                "INSERT INTO vault_subjectkey (org_id, subject_id, wrapped_key, created_at) "
                "VALUES (%s, gen_random_uuid(), '\\x00', now())",
                [world.a.pk],
            )


def test_rows_of_another_organisation_cannot_be_updated_or_deleted(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="A")
    with org_context(world.b), connection.cursor() as cursor:
        cursor.execute("UPDATE cases_person SET deceased = true WHERE id = %s", [person.pk])
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM cases_person WHERE id = %s", [person.pk])
        assert cursor.rowcount == 0
    with org_context(world.a):
        assert Person.objects.get(pk=person.pk).deceased is False


def test_the_application_role_can_append_but_not_change_audit_events(world: World) -> None:
    with org_context(world.a):
        event = record(action="test.append")
        for statement in (
            "UPDATE audit_auditevent SET reason = 'x' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ):
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                fetch(statement, [event.pk])
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            fetch("TRUNCATE audit_auditevent")
