"""Blind-index columns carry plain B-tree indexes only: no `varchar_pattern_ops` copies, which
Django adds for LIKE queries that blind indexes never serve (they are compared for equality)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from tessera.vault.fields import BlindIndexField

from .conftest import ON_POSTGRES

BLIND_COLUMNS = sorted(
    (model._meta.db_table, field.column)
    for model in apps.get_models()
    for field in model._meta.concrete_fields
    if isinstance(field, BlindIndexField)
)


def _indexes(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return [row[0] for row in cursor.fetchall()]


def test_every_model_with_blind_indexes_is_checked() -> None:
    assert ("cases_person", "mobile_phone_index") in BLIND_COLUMNS
    assert ("helpline_contact", "caller_phone_index") in BLIND_COLUMNS


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES")
@pytest.mark.django_db
@pytest.mark.parametrize(("table", "column"), BLIND_COLUMNS)
def test_blind_index_columns_are_indexed_once_and_never_for_pattern_matching(
    table: str, column: str
) -> None:
    covering = [d for d in _indexes(table) if f"({column}" in d or f", {column}" in d]
    assert covering, f"{table}.{column} has no index"
    assert not [d for d in covering if "pattern_ops" in d]
    assert len(covering) == 1
