"""The floor of an import: PostgreSQL alone writing the import's rows, already built and sealed,
into the real tables (indexes, row-level security, foreign keys, triggers), as the application role.

    .venv/bin/python bench/import_floor.py DATABASE_URL   # a database kept by imports.py --keep 1

`bench/imports.py` runs it after each import. The rows the import wrote are copied, untimed, into
temporary tables with new ids (and case references and source keys, which are unique), so that
writing them again creates as many new rows with the same sizes and index values. Then, timed:

- insert: one INSERT … SELECT per table from those temporary tables, and COMMIT (where the
  deferred foreign-key checks run): the database's work alone, nothing sent over the wire;
- copy + insert: the rows sent by COPY into empty temporary tables first (what the import's
  `row_writer` does, without any Python work or batches), then the same INSERTs and COMMIT;
- insert, no RLS: the INSERTs as a superuser, which row-level security does not apply to;
- insert, no checks: the INSERTs as a superuser with `session_replication_role = replica`, so
  without row-level security, foreign-key checks or triggers: what the heap and the indexes
  alone cost (for comparison only: the application can never write this way).

Both are compared with the bare COPY of the CSV file into an unlogged text table.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

# In the order foreign keys need.
TABLES = [
    "cases_case",
    "cases_person",
    "vault_subjectkey",
    "cases_caseparty",
    "consent_consent",
    "cases_casenote",
    "exchange_importedrecord",
]
# Columns that stay as they are although they are uuids: they name rows outside the import.
KEPT_UUIDS = {"job_id"}
# (label, prefix of its prepared tables, whether the rows are sent by COPY first)
VARIANTS = [
    ("insert", "fa", False),
    ("copy + insert", "fb", True),
    ("insert, no RLS", "fd", False),
    ("insert, no checks", "fc", False),
]
# Variants written as the superuser (bypassing row-level security), and of those, the ones that
# also turn foreign-key checks and triggers off.
AS_SUPERUSER = {"fc", "fd"}
UNCHECKED = {"fc"}


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _columns(cursor: Any, table: str) -> list[tuple[str, str, bool]]:
    """(column, type, is an identity/serial column) of a table."""
    cursor.execute(
        "SELECT column_name, data_type, column_default LIKE 'nextval%%' OR is_identity = 'YES' "
        "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [(name, kind, bool(serial)) for name, kind, serial in cursor.fetchall()]


def _import_rows(table: str, job: str) -> str:
    """A condition selecting the rows the import `job` wrote into `table`."""
    # Rows an earlier floor wrote name the same job; their source keys start with the salt's x.
    mine = f"job_id = '{job}' AND source_key NOT LIKE 'x%'"
    cases = f"SELECT case_id FROM exchange_importedrecord WHERE {mine}"
    people = f"SELECT person_id FROM cases_caseparty WHERE case_id IN ({cases})"
    notes = f"SELECT id FROM cases_casenote WHERE case_id IN ({cases})"
    return {
        "cases_case": f"id IN ({cases})",
        "cases_person": f"id IN ({people})",
        "vault_subjectkey": f"subject_id IN ({people}) OR subject_id IN ({notes})",
        "cases_caseparty": f"case_id IN ({cases})",
        "consent_consent": f"case_id IN ({cases})",
        "cases_casenote": f"case_id IN ({cases})",
        "exchange_importedrecord": mine,
    }[table]


def _prepare(cursor: Any, prefix: str, app_role: str, job: str) -> None:
    """Temporary tables `floor_{prefix}_{table}` holding the import's rows under new ids (and
    case references and source keys), different on every call."""
    salt = f"x{prefix}{os.urandom(3).hex()}"  # x: never the start of a content key (hex)
    for table in TABLES:
        exprs = []
        for name, kind, serial in _columns(cursor, table):
            if serial:
                continue  # the database numbers the new row
            if kind == "uuid" and name not in KEPT_UUIDS:
                exprs.append(f"md5({name}::text || '{salt}')::uuid AS {name}")
            elif name == "reference":
                exprs.append(f"'{salt}' || reference AS reference")
            elif name == "source_key":
                exprs.append(f"'{salt}' || left(source_key, 55) AS source_key")
            else:
                exprs.append(name)
        temp = f"floor_{prefix}_{table}"
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} AS SELECT {', '.join(exprs)} FROM {table} "
            f"WHERE {_import_rows(table, job)}"
        )
        cursor.execute(f"GRANT SELECT ON {temp} TO {app_role}")


def _names(cursor: Any, temp: str) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [temp],
    )
    return cursor.fetchone()[0]


def measure(connection: Any, org_id: int, app_role: str, job: str) -> dict[str, Any]:
    """Times both floors on a psycopg connection (autocommit) holding the owner's role."""
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        for _label, prefix, _send in VARIANTS:
            _prepare(cursor, prefix, app_role, job)
        names = {table: _names(cursor, f"floor_fa_{table}") for table in TABLES}
        counts = {}
        dumps: dict[str, bytes] = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM floor_fa_{table}")
            counts[table] = cursor.fetchone()[0]
            buffer = bytearray()
            with cursor.copy(f"COPY floor_fb_{table} ({names[table]}) TO STDOUT") as copy:
                for block in copy:
                    buffer += block
            dumps[table] = bytes(buffer)
        out["rows"] = counts
        out["bytes"] = sum(len(d) for d in dumps.values())
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        for label, salt, send in VARIANTS:
            cursor.execute("RESET ROLE" if salt in AS_SUPERUSER else f"SET ROLE {app_role}")
            if send:  # empty tables to COPY into, made before the clock starts
                for table in TABLES:
                    cursor.execute(
                        f"CREATE TEMPORARY TABLE floor_in_{table} AS "
                        f"SELECT * FROM floor_fb_{table} WITH NO DATA"
                    )
            wall0, cpu0 = time.perf_counter(), _backend_cpu(pid)
            cursor.execute("BEGIN")
            cursor.execute("SELECT set_config('tessera.org_id', %s, true)", [str(org_id)])
            if salt in UNCHECKED:
                cursor.execute("SET LOCAL session_replication_role = replica")
            for table in TABLES:
                source = f"floor_{salt}_{table}"
                if send:
                    source = f"floor_in_{table}"
                    with cursor.copy(f"COPY {source} ({names[table]}) FROM STDIN") as copy:
                        copy.write(dumps[table])
                cursor.execute(
                    f"INSERT INTO {table} ({names[table]}) SELECT {names[table]} FROM {source}"
                )
            cursor.execute("COMMIT")
            out[label] = (time.perf_counter() - wall0, _backend_cpu(pid) - cpu0)
        cursor.execute("RESET ROLE")
        for table in TABLES:
            for temp in [f"floor_{salt}_{table}" for _l, salt, _s in VARIANTS] + [
                f"floor_in_{table}"
            ]:
                cursor.execute(f"DROP TABLE IF EXISTS {temp}")
    return out


def report(out: dict[str, Any], copy_seconds: float | None) -> None:
    rows = out["rows"]
    each = ", ".join(f"{table.split('_', 1)[1]} {n:,}" for table, n in rows.items())
    print(
        f"floor: {sum(rows.values()):,} rows in {len(rows)} tables ({each}); "
        f"{out['bytes'] / 2**20:.1f} MiB as COPY text"
    )
    for label, _salt, _send in VARIANTS:
        wall, cpu = out[label]
        ratio = f", {wall / copy_seconds:.1f}x the bare COPY" if copy_seconds else ""
        print(f"floor, {label:17s}: {wall:6.1f} s wall, {cpu:6.1f} s PostgreSQL CPU{ratio}")


def main() -> int:
    import psycopg

    url = sys.argv[1]
    with psycopg.connect(url, autocommit=True) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT id FROM tenancy_organisation WHERE slug = 'bench'")
        org_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT id::text FROM exchange_importjob WHERE org_id = %s AND filename = 'bench.csv'",
            [org_id],
        )
        job = cursor.fetchone()[0]
        report(measure(connection, org_id, "tessera_app", job), None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
