"""Insert many new rows of one tenant table at once, without building model instances.

PostgreSQL: COPY into a temporary table, then one INSERT … SELECT into the real table. COPY FROM
straight into a table with row-level security is refused ("COPY FROM not supported with row-level
security"); the INSERT applies the table's policy to every row like any other INSERT, so the
database still refuses a row of another organisation. SQLite: one executemany.

Rows are dicts of column → value in a form both databases accept: UUIDs as 32 hex digits, dates
as ISO text, JSON as text, bytes for binary columns. Every column a row leaves out takes the
value a new model instance would save: its field's default, one of the `constants` given for
this insert, or for auto_now fields (and the `stamped` columns) the time of the insert, one
microsecond later for each row so that rows sort in the order given, as rows saved one after
another do. `org_id` is always the current organisation's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models

from tessera.tenancy.context import CrossOrgWriteError, require_org


def insert_rows(
    model: type[models.Model],
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    constants: Mapping[str, Any] | None = None,
    stamped: Sequence[str] = (),
) -> None:
    if not rows:
        return
    columns, defaults, stamps = _columns(model, constants or {}, stamped)
    org_id = require_org().pk
    adapt = connection.ops.adapt_datetimefield_value
    position_of = {column: i for i, column in enumerate(columns)}
    values = []
    for position, row in enumerate(rows):
        if row.get("org_id", org_id) != org_id:
            raise CrossOrgWriteError(f"A {model.__name__} row of another organisation.")
        # The defaults, then what the row gives: rows give a third of the columns or fewer.
        row_values = defaults.copy()
        for column, value in row.items():
            row_values[position_of[column]] = value
        if stamps:
            at = adapt(now + timedelta(microseconds=position))
            for index in stamps:
                row_values[index] = at
        values.append(row_values)
    # Table and column names below come from the model, never from the file.
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            staging = quote(f"tessera_rows_{model._meta.db_table}")
            create = (
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {names} FROM {table} WITH NO DATA"
            )
            cursor.execute(create)
            with cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging}")  # noqa: S608
            # Emptied now, not only at commit: an outer transaction may insert again. (DELETE, not
            # TRUNCATE, which gives the table new files every time: slower for a few rows.)
            cursor.execute(f"DELETE FROM {staging}")  # noqa: S608
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608


def _columns(
    model: type[models.Model], constants: Mapping[str, Any], stamped: Sequence[str]
) -> tuple[list[str], list[Any], list[int]]:
    """The columns to insert; for each, the value of a row that leaves it out; and the positions
    of the columns that take the time of the insert."""
    columns: list[str] = []
    defaults: list[Any] = []
    stamps: list[int] = []
    org = require_org()
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField):
            continue  # the database numbers the row
        column = field.column
        value: Any = None
        if column == "org_id":
            value = org.pk
        elif column in constants:
            value = constants[column]
        elif column in stamped or _is_auto_now(field):
            stamps.append(len(columns))
        elif not field.primary_key:  # every row names its own id: a shared default would collide
            value = field.get_default()
        columns.append(column)
        if value is None:
            defaults.append(None)
        elif isinstance(field, models.JSONField):
            defaults.append(json.dumps(value))  # as rows give JSON: text both databases take
        else:
            defaults.append(field.get_db_prep_save(value, connection))
    return columns, defaults, stamps


def _is_auto_now(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
