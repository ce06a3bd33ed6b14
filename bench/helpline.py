"""Caller-lookup latency at helpline scale: POST /api/v1/helpline/lookup over millions of contacts.

    createdb -h 127.0.0.1 -U postgres bench_helpline
    TESSERA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/bench_helpline \
        .venv/bin/python bench/helpline.py --contacts 10000000 --orgs 2 --repeat 500

Seeds contacts with INSERT … SELECT generate_series (indexes dropped during the load and rebuilt
after, as a bulk import would; needs the pgcrypto extension, in PostgreSQL's contrib): each row
carries a real blind index of its caller's number under its organisation's key
and a stand-in ciphertext of realistic size (the lookup never opens sealed fields). Caller numbers
follow a skewed distribution (a few numbers call thousands of times, most once or twice); 5 % of
contacts are linked to cases of mixed sensitivity, and each case has a person whose mobile is one
of the low caller numbers (every third), for the party check to find. Lookups then go in-process
through the full middleware stack with an advisor's bearer token, as the non-owner application role
(RLS on), including the audit event each lookup writes; raw SQL runs the contacts query alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.test")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

COLUMNS = (
    "id, org_id, channel, direction, caller_type, language, started_at, answered_at, occurred, "
    "outcome, urgency, is_anonymous, caller_phone, caller_phone_index, safety_flags, "
    "triage_status, source, team, case_id, created_at, updated_at"
)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cut = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return cut[49], cut[94], cut[98]


def cpu_reference_ms() -> float:
    """A fixed pure-Python workload, best of five: machines of one kind have differed 3.5-fold in
    this project's sessions, so each run says how fast its machine was."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def number(i: int) -> str:
    return f"+4477{i:08d}"


def setup_orgs(orgs: int, cases_per_org: int) -> list[tuple[object, str, list[str]]]:
    from tessera.accounts.services import create_user, enrol_totp
    from tessera.accounts.tokens import create_token
    from tessera.cases.models import Case, Sensitivity
    from tessera.tenancy.context import org_context
    from tessera.tenancy.services import add_member, create_organisation

    rng = random.Random(11)
    out = []
    for n in range(orgs):
        org = create_organisation(slug=f"line-{n}", name=f"Line {n}", shipping_country="GB")
        user = create_user(email=f"adv@line-{n}.test", password="bench-password-123456")  # noqa: S106 (throw-away bench user)
        add_member(org=org, user=user, role="helpline_advisor")
        enrol_totp(user=user)  # tokens are only for users with a second factor
        _token, raw = create_token(user=user, org=org)
        with org_context(org):
            cases = [
                Case(
                    reference=f"2025-{i + 1:06d}",
                    owner=user,
                    opened_on=datetime(2024, 1, 1, tzinfo=UTC).date(),
                    sensitivity=rng.choices(
                        [
                            Sensitivity.STANDARD,
                            Sensitivity.RESTRICTED,
                            Sensitivity.HIGHLY_RESTRICTED,
                        ],
                        [88, 10, 2],
                    )[0],
                )
                for i in range(cases_per_org)
            ]
            Case.objects.bulk_create(cases, batch_size=2000)
        out.append((org, raw, [str(c.pk) for c in cases]))
    return out


# Rows are generated inside PostgreSQL (generate_series + pgcrypto's hmac), a hundred times faster
# than sending them; the blind index is the vault's own: HMAC-SHA256 under the organisation's index
# key of "phone\x1f<E.164>", truncated to 16 bytes (checked against blind_index() below).
INSERT_SQL = f"""
INSERT INTO helpline_contact ({COLUMNS})
SELECT gen_random_uuid(), %(org)s,
       (ARRAY['phone','phone','phone','phone','phone','phone','sms','whatsapp','webchat','email',
              'web_form'])[1 + floor(random() * 11)::int],
       'inbound',
       (ARRAY['potential_victim','public','public','business','statutory','ngo','other'])
           [1 + floor(random() * 7)::int],
       'en', ts, ts + (5 + floor(random() * 600)::int) * interval '1 second', '', 'advice',
       'routine', false, gen_random_bytes(60),
       encode(substring(hmac(convert_to('phone' || chr(31) || '+4477' ||
              lpad(floor(%(distinct)s * random() ^ 2)::bigint::text, 8, '0'), 'UTF8'),
              %(key)s, 'sha256') from 1 for 16), 'hex'),
       CASE WHEN random() < 0.02 THEN '["do_not_call_back"]'::jsonb ELSE '[]'::jsonb END,
       'done', 'staff', '',
       CASE WHEN random() < 0.05
            THEN (%(cases)s::uuid[])[1 + floor(random() * %(ncases)s)::int] END,
       ts, ts
FROM (SELECT timestamptz '2026-11-01' - random() * interval '3 years' AS ts
      FROM generate_series(1, %(rows)s)) AS generated
"""
BATCH = 1_000_000


def insert_contacts(org: object, total: int, distinct: int, case_ids: list[str]) -> None:
    from tessera.tenancy.context import org_context
    from tessera.vault.blind import blind_index
    from tessera.vault.keys import org_keys

    with org_context(org), connection.cursor() as cursor:  # type: ignore[arg-type]
        key = org_keys().index_key
        cursor.execute(
            "SELECT encode(substring(hmac(convert_to(%s, 'UTF8'), %s, 'sha256') from 1 for 16), 'hex')",
            [f"phone\x1f{number(0)}", key],
        )
        assert cursor.fetchone()[0] == blind_index("phone", number(0)), "index differs from vault"
        done = 0
        while done < total:
            rows = min(BATCH, total - done)
            cursor.execute(
                INSERT_SQL,
                {
                    "org": org.pk,  # type: ignore[attr-defined]
                    "distinct": distinct,
                    "key": key,
                    "cases": case_ids,
                    "ncases": len(case_ids),
                    "rows": rows,
                },
            )
            done += rows
            print(f"  {org.slug}: {done:,} contacts", flush=True)  # type: ignore[attr-defined]


# One person per case (its potential victim), every third of the low caller numbers on a person's
# mobile: the lookup's party check then finds people, and their cases, by the same blind index.
PEOPLE_SQL = """
INSERT INTO cases_person (id, first_name_index, second_name_index, birthdate_index,
    identity_number_index, mobile_phone_index, home_phone_index, gender, deceased, citizenship,
    mailing_state, mailing_country, created_at, updated_at, org_id, extensions,
    highest_level_of_education, marital_status, primary_language, secondary_language)
SELECT gen_random_uuid(), md5('first' || i), md5('second' || i), '', '',
       encode(substring(hmac(convert_to('phone' || chr(31) || '+4477' ||
              lpad((i * 3)::text, 8, '0'), 'UTF8'), %(key)s, 'sha256') from 1 for 16), 'hex'),
       '', '', false, '[]'::jsonb, '', '', now(), now(), %(org)s, '{}'::jsonb, '', '', '', ''
FROM generate_series(0, %(people)s - 1) AS i
"""
PARTIES_SQL = """
INSERT INTO cases_caseparty (id, role, trafficking_status, trafficking_status_decision_making_org,
    relationship_to_trafficker, recruitment_websites_and_apps, method_of_recruitment,
    location_of_recruitment, methods_of_control, type_of_exploitation, forced_labour_industry,
    type_of_sex_exploitation, location_of_exploitation, exploitation_websites_and_apps,
    vulnerabilities, details_of_vulnerabilities, role_in_process, role_details, extensions,
    created_at, updated_at, case_id, org_id, person_id)
SELECT gen_random_uuid(), 'PotentialVictim', '', '', '', '[]', '[]', '', '[]', '[]', '', '[]', '',
       '[]', '[]', '', '[]', '', '{}', now() - random() * interval '3 years', now(), c.id,
       %(org)s, p.id
FROM (SELECT id, row_number() OVER () AS n FROM cases_person WHERE org_id = %(org)s) AS p
JOIN (SELECT id, row_number() OVER () AS n FROM cases_case WHERE org_id = %(org)s) AS c
  ON c.n = p.n
"""


def insert_people(org: object, people: int) -> None:
    from tessera.tenancy.context import org_context
    from tessera.vault.keys import org_keys

    with org_context(org), connection.cursor() as cursor:  # type: ignore[arg-type]
        values = {"key": org_keys().index_key, "org": org.pk, "people": people}  # type: ignore[attr-defined]
        cursor.execute(PEOPLE_SQL, values)
        cursor.execute(PARTIES_SQL, values)
    print(f"  {org.slug}: {people:,} people, each a party to one case", flush=True)  # type: ignore[attr-defined]


def drop_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'helpline_contact' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        found = cursor.fetchall()
        for name, _definition in found:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=2)
    parser.add_argument("--cases-per-org", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument(
        "--measure-only", action="store_true", help="measure a database this script seeded before"
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=0,
        help="then also N concurrent clients of one organisation (they queue on its audit chain)",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set TESSERA_TEST_POSTGRES to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)

    per_org = args.contacts // args.orgs
    distinct = max(1000, per_org // 4)
    if args.measure_only:
        orgs = existing_orgs(args.orgs)
        measure(orgs, distinct, args.repeat)
        if args.clients:
            measure_concurrent(orgs[0][1], distinct, args.clients, args.repeat)
        return 0
    started = time.perf_counter()
    orgs = setup_orgs(args.orgs, args.cases_per_org)
    definitions = drop_indexes()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    for org, _raw, case_ids in orgs:
        insert_contacts(org, per_org, distinct, case_ids)
        insert_people(org, len(case_ids))
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        for definition in definitions:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('helpline_contact'))")
        size = cursor.fetchone()[0]
    done = time.perf_counter()
    print(
        f"seeded {per_org * args.orgs:,} contacts in {loaded - started:.0f} s, "
        f"indexes rebuilt in {done - loaded:.0f} s; table with indexes: {size}"
    )
    measure(orgs, distinct, args.repeat)
    if args.clients:
        measure_concurrent(orgs[0][1], distinct, args.clients, args.repeat)
    return 0


def existing_orgs(count: int) -> list[tuple[object, str, list[str]]]:
    from tessera.accounts.models import User
    from tessera.accounts.tokens import create_token
    from tessera.tenancy.models import Organisation

    found = []
    for n in range(count):
        org = Organisation.objects.get(slug=f"line-{n}")
        _token, raw = create_token(user=User.objects.get(email=f"adv@line-{n}.test"), org=org)
        found.append((org, raw, []))
    return found


def statements_per_lookup(client: Client, phone: str) -> list[str]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.post("/api/v1/helpline/lookup", {"phone": phone}, content_type="application/json")
    return [q["sql"] for q in captured.captured_queries]


def measure(orgs: list[tuple[object, str, list[str]]], distinct: int, repeat: int) -> int:
    from tessera.tenancy.context import org_context

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM helpline_contact")
        print(f"contacts in the table: {cursor.fetchone()[0]:,}; load average {os.getloadavg()}")
        print(f"CPU reference (1M squares summed, best of 5): {cpu_reference_ms():.0f} ms")
        # From here on, API and SQL alike run as the non-owner application role: RLS applies.
        cursor.execute(f"SET ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}")
    org, token, _cases = orgs[0]
    client = Client(headers={"Authorization": f"Bearer {token}"})
    rng = random.Random(5)
    kinds = {
        "frequent caller (number #0)": lambda: number(0),
        "random known number": lambda: number(int(distinct * rng.random() ** 2)),
        "unknown number": lambda: f"+4478{rng.randrange(10**8):08d}",
    }
    from tessera.helpline.selectors import lookup_caller
    from tessera.tenancy.models import Membership
    from tessera.vault.blind import blind_index

    member = Membership.objects.select_related("org", "user").get(org=org, role="helpline_advisor")
    for _ in range(20):  # warm the caches (keys, compiled regexes) as a running server has them
        client.post(
            "/api/v1/helpline/lookup", {"phone": number(1)}, content_type="application/json"
        )
    sent = statements_per_lookup(client, number(0))
    print(f"statements per lookup (one round trip each): {len(sent)}")
    for sql in sent:
        print(f"    {' '.join(sql.split())[:100]}")
    print(
        f"\n{'lookup':<28} {'API p50/p95/p99 ms':>22} {'selector p50/p95/p99':>22} "
        f"{'SQL p50/p95/p99 ms':>22}  API CPU ms  contacts"
    )
    for name, pick in kinds.items():
        api_ms, selector_ms, sql_ms, found = [], [], [], []
        api_cpu = 0.0
        for _ in range(repeat):
            phone = pick()
            t, cpu = time.perf_counter(), time.process_time()
            response = client.post(
                "/api/v1/helpline/lookup", {"phone": phone}, content_type="application/json"
            )
            api_ms.append((time.perf_counter() - t) * 1000)
            api_cpu += time.process_time() - cpu
            assert response.status_code == 200, response.content[:300]
            found.append(len(response.json()["contacts"]))
            with org_context(org):  # type: ignore[arg-type]
                t = time.perf_counter()
                lookup_caller(actor=member, phone=phone)
                selector_ms.append((time.perf_counter() - t) * 1000)
            with org_context(org), connection.cursor() as cursor:  # type: ignore[arg-type]
                index = blind_index("phone", phone)
                t = time.perf_counter()
                cursor.execute(
                    "SELECT id, case_id, started_at FROM helpline_contact "
                    "WHERE org_id = %s AND caller_phone_index = %s ORDER BY started_at DESC LIMIT 40",
                    [org.pk, index],  # type: ignore[attr-defined]
                )
                cursor.fetchall()
                sql_ms.append((time.perf_counter() - t) * 1000)
        a, q, s = percentiles(api_ms), percentiles(selector_ms), percentiles(sql_ms)
        print(
            f"{name:<28} {a[0]:>6.1f}/{a[1]:>6.1f}/{a[2]:>6.1f}   "
            f"{q[0]:>6.1f}/{q[1]:>6.1f}/{q[2]:>6.1f}   "
            f"{s[0]:>6.1f}/{s[1]:>6.1f}/{s[2]:>6.1f}   {api_cpu * 1000 / repeat:>9.1f}"
            f"   median {statistics.median(found):.0f}"
        )
    print(f"load average at the end: {os.getloadavg()}")
    return 0


def measure_concurrent(token: str, distinct: int, clients: int, repeat: int) -> None:
    """`clients` threads, each with its own connection, looking up random known numbers in one
    organisation at once: every lookup appends to that organisation's audit chain, so they queue on
    its head from the append to the commit."""
    start = threading.Barrier(clients)
    latencies: list[float] = []
    failures: list[BaseException] = []

    def client_loop(seed: int) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SET ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}"
                )
            client = Client(headers={"Authorization": f"Bearer {token}"})
            rng = random.Random(seed)
            mine = []
            start.wait()
            for _ in range(repeat // clients):
                phone = number(int(distinct * rng.random() ** 2))
                t = time.perf_counter()
                response = client.post(
                    "/api/v1/helpline/lookup", {"phone": phone}, content_type="application/json"
                )
                mine.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.content[:300]
            latencies.extend(mine)
        except BaseException as error:  # reported below, by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise failures[0]
    p50, p95, p99 = percentiles(latencies)
    print(
        f"\n{clients} concurrent clients, random known numbers, {len(latencies)} lookups: "
        f"API p50/p95/p99 {p50:.1f}/{p95:.1f}/{p99:.1f} ms, {len(latencies) / elapsed:.0f} lookups/s; "
        f"load average {os.getloadavg()}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
