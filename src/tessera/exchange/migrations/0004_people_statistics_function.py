"""`tessera_analyze_people()`: lets the application role refresh the planner's statistics of
`cases_person` while an import makes the table grow (exchange/duplicates.py).

The duplicate check looks each incoming blind index up in its B-tree. Without statistics
(autovacuum off, or a table that has just grown from nothing) PostgreSQL cannot tell a blind index
from the organisation column and may scan every person of the organisation for every key; only
the table's owner may ANALYZE. The function runs as the owner, analyses only the columns the
duplicate check's plan depends on, with a small sample, and is revoked from PUBLIC (the
post-migrate hook grants it to the application role, tenancy/rls.py).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION tessera_analyze_people() RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET default_statistics_target = 10
AS $$
    ANALYZE public.cases_person (
        org_id, merged_into_id, first_name_index, second_name_index, birthdate_index,
        identity_number_index, mobile_phone_index, home_phone_index
    );
$$;
REVOKE ALL ON FUNCTION tessera_analyze_people() FROM PUBLIC;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS tessera_analyze_people()")


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0003_staged_batches"),
        ("cases", "0005_blind_indexes_without_pattern_copies"),
    ]

    operations = [migrations.RunPython(create, drop)]
