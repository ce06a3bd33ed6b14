"""Blind-index columns of people keep one plain B-tree each, declared in Person.Meta.indexes.

`db_index=True` on these CharFields had Django create, on PostgreSQL, a second copy of every index
with `varchar_pattern_ops` (for LIKE), which no query uses: blind indexes are only compared for
equality. The copies are dropped and the plain indexes renamed to their declared names (no
rebuild on a large table). SQLite has no copies and cannot rename an index: it builds the new ones.
"""

from django.db import migrations, models

import tessera.vault.fields

# (field, kind, source, the index Django named for db_index=True, the declared name)
COLUMNS = [
    ("first_name_index", "name", "first_name", "b6fab97a", "person_first_name_index"),
    ("second_name_index", "name", "second_name", "921ff475", "person_second_name_index"),
    ("birthdate_index", "dob", "birthdate", "8fa32e05", "person_birthdate_index"),
    (
        "identity_number_index",
        "document",
        "identity_number",
        "252c3963",
        "person_identity_number_index",
    ),
    ("mobile_phone_index", "phone", "mobile_phone", "05780e63", "person_mobile_phone_index"),
    ("home_phone_index", "phone", "home_phone", "624935ff", "person_home_phone_index"),
]


def _old(column: str, digest: str) -> str:
    return f"cases_person_{column}_{digest}"


def forwards(apps, schema_editor):
    for column, _kind, _source, digest, name in COLUMNS:
        old = _old(column, digest)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{old}_like"')
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{name}"')
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "cases_person" ("{column}")'
            )
        else:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{old}"')
            schema_editor.execute(f'CREATE INDEX "{name}" ON "cases_person" ("{column}")')


def backwards(apps, schema_editor):
    for column, _kind, _source, digest, name in COLUMNS:
        old = _old(column, digest)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'ALTER INDEX "{name}" RENAME TO "{old}"')
            schema_editor.execute(
                f'CREATE INDEX "{old}_like" ON "cases_person" ("{column}" varchar_pattern_ops)'
            )
        else:
            schema_editor.execute(f'DROP INDEX "{name}"')
            schema_editor.execute(f'CREATE INDEX "{old}" ON "cases_person" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_counts_kept_by_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *[
                    migrations.AlterField(
                        model_name="person",
                        name=column,
                        field=tessera.vault.fields.BlindIndexField(
                            blank=True, kind=kind, max_length=32, source=source
                        ),
                    )
                    for column, kind, source, _digest, _name in COLUMNS
                ],
                *[
                    migrations.AddIndex(
                        model_name="person",
                        index=models.Index(fields=[column], name=name),
                    )
                    for column, _kind, _source, _digest, name in COLUMNS
                ],
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
