"""Case list, filtered list, blind-index search and case detail at scale: the API against its own SQL.

    createdb -h 127.0.0.1 -U postgres bench_cases
    TESSERA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/bench_cases \\
        .venv/bin/python bench/cases.py --orgs 10 --cases-per-org 100000     # seed, then measure
    TESSERA_TEST_POSTGRES=... .venv/bin/python bench/cases.py --measure-only  # measure again

Seeding (bench/cases_seed.py) generates cases, events, people and parties inside PostgreSQL, with the
indexes and foreign keys dropped during the load and rebuilt after it. Requests then go in-process
through the full middleware stack with each organisation's caseworker token, as the non-owner
application role (row-level security on), cycling over the ten organisations and over sampled
inputs (different cases, phones and names) after one untimed warm-up pass.

"SQL" replays, for the same input, exactly the statements the endpoint sent for its data (every
statement on a cases_, consent_ or vault_ table, captured from the API request itself), on the same
connection as the same role inside the organisation's transaction, and times them end to end
(round trips and fetching included; BEGIN, the RLS setting and COMMIT excluded). The statements of
the shared per-request path (token, memberships, RLS setting, savepoints) are timed separately and
reported beside it, with a request to /api/v1/me as the floor of that path. The HTCDS document of
a case (its people decrypted, each read audited) is measured too, beyond the issue's four queries:
its audit writes count with the path, and are not replayed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.test")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

import cases_seed

DATA_TABLES = ("cases_", "consent_", "vault_")
SAMPLES_TABLE = "bench_cases_samples"
FILTERS = "status=Active&exploitation_type=ForcedLabour&country=GB"


@dataclass
class Recorded:
    """The statements one request sent, with the seconds each took."""

    statements: list[tuple[str, Any, float]] = field(default_factory=list)
    server_cpu: float = 0.0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((sql, params, time.perf_counter() - started))

    def split(self) -> tuple[list[tuple[str, Any, float]], list[tuple[str, Any, float]]]:
        data = [s for s in self.statements if any(t in s[0] for t in DATA_TABLES)]
        path = [s for s in self.statements if not any(t in s[0] for t in DATA_TABLES)]
        return data, path


@dataclass
class Sample:
    org: Any
    client: Client
    path: str
    data_sql: list[tuple[str, Any]] = field(default_factory=list)
    # Every statement the request sent (its path too), for the "all SQL" column.
    all_sql: list[tuple[str, Any]] = field(default_factory=list)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cut = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return cut[49], cut[94], cut[98]


# --- Seeding --------------------------------------------------------------------------------------


def seed(orgs: int, per_org: int) -> None:
    started = time.perf_counter()
    bench_orgs = [cases_seed.setup_org(n) for n in range(orgs)]
    print(f"organisations, staff and tokens: {time.perf_counter() - started:.0f} s", flush=True)
    restore = cases_seed.drop_secondary_structures()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        cursor.execute(cases_seed.FUNCTIONS)
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {SAMPLES_TABLE} (org_id bigint, kind text, value text)"
        )
    for bench_org in bench_orgs:
        cases_seed.register_org(bench_org)
    loading = time.perf_counter()
    cases_seed.load(per_org, log=lambda line: print(line, flush=True))
    for bench_org in bench_orgs:
        cases_seed.choose_samples(bench_org, SAMPLES_TABLE)
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in restore:
            cursor.execute(statement)
    indexed = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plan, bench_people, bench_orgs CASCADE")
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    done = time.perf_counter()
    print(
        f"loaded {orgs * per_org:,} cases in {loaded - loading:.0f} s, indexes and foreign keys "
        f"rebuilt in {indexed - loaded:.0f} s, VACUUM ANALYZE in "
        f"{done - indexed:.0f} s; total {done - started:.0f} s",
        flush=True,
    )


def describe_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint, pg_size_pretty(pg_total_relation_size(oid)) "
            "FROM pg_class WHERE relname IN ('cases_case', 'cases_person', 'cases_caseparty', "
            "'cases_traffickingevent', 'vault_subjectkey') ORDER BY relname"
        )
        for name, rows, size in cursor.fetchall():
            print(f"  {name:<24} {rows:>12,} rows  {size:>10} with indexes")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database {cursor.fetchone()[0]}")


# --- Measuring ------------------------------------------------------------------------------------


def build_samples(per_kind: int) -> dict[str, list[Sample]]:
    """Per query kind, inputs cycling over the organisations (each with its caseworker's token)."""
    from tessera.accounts.models import User
    from tessera.accounts.tokens import create_token
    from tessera.tenancy.models import Organisation

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT org_id, kind, value FROM {SAMPLES_TABLE} ORDER BY org_id, kind, value"
        )
        rows = cursor.fetchall()
    by_org: dict[int, dict[str, list[str]]] = {}
    for org_id, kind, value in rows:
        by_org.setdefault(org_id, {}).setdefault(kind, []).append(value)
    clients = {}
    for org in Organisation.objects.filter(pk__in=by_org).order_by("pk"):
        user = User.objects.get(email=f"cw-north-0@{org.slug}.test")
        _token, raw = create_token(user=user, org=org, name="bench run")
        clients[org.pk] = (org, Client(headers={"Authorization": f"Bearer {raw}"}))
    paths: dict[str, Callable[[str], str]] = {
        "case list (25)": lambda _v: "/api/v1/cases?limit=25",
        "filtered list (25)": lambda _v: f"/api/v1/cases?limit=25&{FILTERS}",
        "search by phone": lambda v: f"/api/v1/cases?limit=25&q={quote(v)}",
        "search by name": lambda v: f"/api/v1/cases?limit=25&q={quote(v)}",
        "case detail": lambda v: f"/api/v1/cases/{v}",
        "case document (HTCDS)": lambda v: f"/api/v1/htcds/cases/{v}",
        "per-request floor (/me)": lambda _v: "/api/v1/me",
    }
    source = {
        "search by phone": "phone",
        "search by name": "name",
        "case detail": "detail",
        "case document (HTCDS)": "detail",
    }
    out: dict[str, list[Sample]] = {}
    for kind, to_path in paths.items():
        samples = []
        for org_id, (org, client) in clients.items():
            values = by_org[org_id].get(source.get(kind, "detail"), [])[:per_kind]
            if kind not in source:
                values = values[:1]
            samples.extend(Sample(org, client, to_path(v)) for v in values)
        random.Random(3).shuffle(samples)
        out[kind] = samples
    return out


class ServerCpu:
    """CPU seconds used by this connection's PostgreSQL backend process (same machine), read from
    /proc. The kernel reports whole clock ticks, so one request's figure is 0 or 10 ms; summed over
    many requests the mean is right. With the app's own CPU time it shows what a request would take
    on an idle core, which a shared machine's wall clock cannot."""

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.path = Path(f"/proc/{cursor.fetchone()[0]}/stat")
        self.tick = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float:
        try:
            fields = self.path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / self.tick  # utime + stime


SERVER_CPU: ServerCpu | None = None


def timed_request(sample: Sample) -> tuple[float, float, Recorded, Any]:
    recorded = Recorded()
    server = SERVER_CPU.seconds() if SERVER_CPU else 0.0
    wall, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(recorded):
        response = sample.client.get(sample.path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    recorded.server_cpu = (SERVER_CPU.seconds() if SERVER_CPU else 0.0) - server
    assert response.status_code == 200, (sample.path, response.status_code, response.content[:300])
    return wall, cpu, recorded, response


def replay_all(sample: Sample) -> float:
    """Every statement the request sent, path included, in one transaction as the request ran them
    (BEGIN and COMMIT included; as the same role, without the organisation set beforehand: the
    token's statement sets it, as in the request)."""
    from django.db import transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in sample.all_sql:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
    return time.perf_counter() - started


def replay(sample: Sample) -> float:
    from tessera.tenancy.context import org_context

    with org_context(sample.org), connection.cursor() as cursor:
        started = time.perf_counter()
        for sql, params in sample.data_sql:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
        return time.perf_counter() - started


@dataclass
class Timings:
    api: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    all_sql: list[float] = field(default_factory=list)
    path_ms: list[float] = field(default_factory=list)
    counts: list[tuple[int, int]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)

    def line(self, kind: str) -> str:
        a = percentiles(self.api)
        s = percentiles(self.sql) if self.sql else (0.0, 0.0, 0.0)
        ratio = f"{a[1] / s[1]:>10.1f}x" if s[1] else f"{'-':>11}"
        all_sql = percentiles(self.all_sql) if self.all_sql else (0.0, 0.0, 0.0)
        all_ratio = f"{a[1] / all_sql[1]:.1f}x" if all_sql[1] else "-"
        return (
            f"{kind:<24} {a[0]:>6.1f}/{a[1]:>5.1f}/{a[2]:>5.1f}  "
            f"{s[0]:>6.1f}/{s[1]:>5.1f}/{s[2]:>5.1f}  {ratio} "
            f"{statistics.median(self.cpu):>10.1f}  "
            f"{statistics.median(c[0] for c in self.counts):>6.0f} "
            f"{statistics.median(c[1] for c in self.counts):>6.0f} "
            f"{statistics.median(self.path_ms):>7.1f}  {statistics.median(self.rows):>4.0f}  "
            f"{statistics.mean(self.cpu):>6.1f} + {statistics.mean(self.server_cpu):>5.1f}  "
            f"{all_sql[0]:>6.1f}/{all_sql[1]:>5.1f}/{all_sql[2]:>5.1f}  {all_ratio}"
        )


def measure(repeat: int, per_kind: int, profile: str | None) -> int:
    describe_database()
    kinds = build_samples(per_kind)
    with connection.cursor() as cursor:
        # From here on, API and SQL alike run as the non-owner application role: RLS applies.
        cursor.execute(f"SET ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}")
    if profile:
        return profile_kind(kinds[profile], repeat)
    global SERVER_CPU
    SERVER_CPU = ServerCpu()
    for samples in kinds.values():
        for sample in samples:  # warm-up, and the statements each input sends for its data
            _wall, _cpu, recorded, _response = timed_request(sample)
            sample.data_sql = [(sql, params) for sql, params, _t in recorded.split()[0]]
            sample.all_sql = [
                (sql, params)
                for sql, params, _t in recorded.statements
                if not sql.startswith('UPDATE "accounts_apitoken"')  # once a minute
            ]
            writes = [sql for sql, _p in sample.data_sql if not sql.lstrip().startswith("SELECT")]
            assert not writes, f"a measured read writes case data: {writes[0][:200]}"
    # The kinds take turns, so that all of them see the same load on a shared machine.
    timings = {kind: Timings() for kind in kinds}
    load_before, cpu_before = os.getloadavg(), time.process_time()
    started = time.perf_counter()
    for i in range(repeat):
        for kind, samples in kinds.items():
            sample = samples[i % len(samples)]
            wall, used, recorded, response = timed_request(sample)
            data, path = recorded.split()
            t = timings[kind]
            t.api.append(wall * 1000)
            t.cpu.append(used * 1000)
            t.server_cpu.append(recorded.server_cpu * 1000)
            t.path_ms.append(sum(seconds for _s, _p, seconds in path) * 1000)
            t.counts.append((len(data), len(path)))
            body = response.json()
            t.rows.append(len(body.get("items", body.get("people", [None]))))
            if sample.data_sql:
                t.sql.append(replay(sample) * 1000)
            if sample.all_sql:
                t.all_sql.append(replay_all(sample) * 1000)
    elapsed = time.perf_counter() - started
    print(
        f"\n{repeat} requests of each kind, in turn; load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; this process used "
        f"{(time.process_time() - cpu_before) / elapsed:.0%} of one core"
    )
    print(
        f"{'query':<24} {'API p50/p95/p99 ms':>20} {'SQL p50/p95/p99 ms':>20} {'p95 API/SQL':>11} "
        f"{'API CPU p50':>11} {'data q':>6} {'path q':>6} {'path ms':>7}  rows  "
        "CPU ms/request, mean: app + database   all SQL p50/p95/p99 ms  p95 API/all SQL"
    )
    for kind, t in timings.items():
        print(t.line(kind), flush=True)
    return 0


def profile_kind(samples: list[Sample], repeat: int) -> int:
    for sample in samples:
        timed_request(sample)
    profiler = cProfile.Profile(time.process_time)  # CPU of this process, not waits
    profiler.enable()
    for i in range(repeat):
        samples[i % len(samples)].client.get(samples[i % len(samples)].path)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--cases-per-org", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--inputs", type=int, default=10, help="inputs per organisation and kind")
    parser.add_argument(
        "--measure-only", action="store_true", help="measure a database this script seeded before"
    )
    parser.add_argument("--profile", help="cProfile REPEAT requests of one query kind instead")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set TESSERA_TEST_POSTGRES to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    if not args.measure_only:
        seed(args.orgs, args.cases_per_org)
    return measure(args.repeat, args.inputs, args.profile)


if __name__ == "__main__":
    raise SystemExit(main())
