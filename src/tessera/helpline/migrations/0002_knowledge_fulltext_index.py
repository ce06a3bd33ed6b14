"""Full-text index of the knowledge base: a GIN index over a tsvector on PostgreSQL, an FTS5 table
on SQLite (which carries org_id, since a virtual table is outside the ORM's organisation wall)."""

from django.db import migrations

PG_INDEX = "helpline_kb_search_gin"
FTS_TABLE = "helpline_kb_fts"


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON helpline_knowledgearticle USING GIN "
            "(to_tsvector('simple'::regconfig, COALESCE(search_text, '')))"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "org_id UNINDEXED, search_text, tokenize = 'unicode61 remove_diacritics 2')"
        )


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("helpline", "0001_contacts_tasks_notifications_knowledge")]

    operations = [migrations.RunPython(create, drop)]
