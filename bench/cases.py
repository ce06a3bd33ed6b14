"""Case-list, filtered-list, blind-index search and case-detail latency: API vs raw SQL.

    createdb -h 127.0.0.1 -U postgres bench_cases
    TESSERA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/bench_cases \
        .venv/bin/python bench/cases.py --orgs 10 --cases-per-org 100000   # the issue's 1M scale

Seeds with bulk inserts (sealing and blind-indexing every person exactly as the services do,
but without per-row audit events, which would dominate seeding time), then serves the API
in-process through the full middleware stack as the non-owner application role (RLS applies),
with a bearer token. Raw SQL runs the equivalent queries on the same connection and role.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.test")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

EXPLOITATION = ["ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude"]
COUNTRIES = ["GB", "TH", "RO", "NG", "VN", "AL", "IN", "PH"]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return cut[49], cut[94], cut[98]


def seed(orgs: int, per_org: int) -> list[tuple[object, str, str]]:
    from tessera.accounts.services import create_user
    from tessera.accounts.tokens import create_token
    from tessera.cases.models import Case, CaseParty, CaseSequence, Person
    from tessera.tenancy.context import org_context
    from tessera.tenancy.services import add_member, create_organisation

    rng = random.Random(7)
    out = []
    for n in range(orgs):
        org = create_organisation(slug=f"bench-{n}", name=f"Bench {n}", shipping_country="GB")
        user = create_user(email=f"cw@bench-{n}.test", password="bench-password-123456")  # noqa: S106 (throw-away bench user)
        add_member(org=org, user=user, role="caseworker")
        _token, raw = create_token(user=user, org=org)
        phone = ""
        with org_context(org):
            for start in range(0, per_org, 2000):
                cases, people, parties = [], [], []
                for i in range(start, min(per_org, start + 2000)):
                    types = rng.sample(EXPLOITATION, 1)
                    country = rng.choice(COUNTRIES)
                    case = Case(
                        reference=f"2024-{i + 1:07d}",
                        owner=user,
                        opened_on=date(2020, 1, 1) + timedelta(days=rng.randrange(1800)),
                        exploitation_tags=f"|{types[0]}|",
                        country_tags=f"|{country}|",
                    )
                    cases.append(case)
                    for k in range(rng.choice((2, 2, 3, 3))):
                        person = Person(
                            id=uuid.uuid4(),
                            first_name=f"Name{rng.randrange(10**6)}",
                            second_name=f"Family{rng.randrange(10**6)}",
                            mobile_phone=f"+4477009{rng.randrange(10**5):05d}",
                        )
                        phone = phone or person.mobile_phone
                        people.append(person)
                        role = "PotentialVictim" if k == 0 else "Perpetrator"
                        parties.append(
                            CaseParty(
                                case=case,
                                person=person,
                                role=role,
                                type_of_exploitation=types if k == 0 else [],
                            )
                        )
                Case.objects.bulk_create(cases)
                Person.objects.bulk_create(people)
                CaseParty.objects.bulk_create(parties)
            CaseSequence.objects.update_or_create(defaults={"last_number": per_org})
            sample_case = str(Case.objects.order_by("?").values_list("pk", flat=True).first())
        out.append((org, raw, phone or "", sample_case))
        print(f"seeded org {n + 1}/{orgs}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--cases-per-org", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("Set TESSERA_TEST_POSTGRES to a PostgreSQL database.", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    from tessera.tenancy.context import org_context
    from tessera.vault.fields import index_for

    started = time.perf_counter()
    orgs = seed(args.orgs, args.cases_per_org)
    print(f"seeded {args.orgs * args.cases_per_org} cases in {time.perf_counter() - started:.0f} s")
    role = connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        # From here on, API and SQL alike run as the non-owner application role: RLS applies.
        cursor.execute(f"SET ROLE {role}")
    org, token, phone, case_id = orgs[0]
    with org_context(org):
        phone_index = index_for("phone", phone)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    api = {
        "case list": "/api/v1/cases?limit=25",
        "filtered list": "/api/v1/cases?limit=25&status=Active&exploitation_type=ForcedLabour&country=GB",
        "blind-index search": f"/api/v1/cases?limit=25&q={phone.replace('+', '%2B')}",
        "case detail": f"/api/v1/cases/{case_id}",
    }
    visible = "c.org_id = %s AND c.sensitivity = 'standard'"
    sql = {
        "case list": (
            f"SELECT c.* FROM cases_case c WHERE {visible} ORDER BY c.opened_on DESC, c.created_at DESC LIMIT 25",
            [org.pk],
        ),
        "filtered list": (
            f"SELECT c.* FROM cases_case c WHERE {visible} AND c.status = 'Active' AND c.exploitation_tags LIKE '%%|ForcedLabour|%%' AND c.country_tags LIKE '%%|GB|%%' ORDER BY c.opened_on DESC LIMIT 25",
            [org.pk],
        ),
        "blind-index search": (
            f"SELECT c.* FROM cases_case c WHERE {visible} AND EXISTS (SELECT 1 FROM cases_caseparty cp JOIN cases_person p ON p.id = cp.person_id WHERE cp.case_id = c.id AND (p.mobile_phone_index = %s OR p.home_phone_index = %s)) ORDER BY c.opened_on DESC LIMIT 25",
            [org.pk, phone_index, phone_index],
        ),
        "case detail": ("SELECT c.* FROM cases_case c WHERE c.id = %s", [case_id]),
    }
    print(f"\n{'query':<20} {'API p50/p95/p99 ms':>22} {'SQL p50/p95/p99 ms':>22} {'p95 ratio':>9}")
    for name, path in api.items():
        api_ms, sql_ms = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            response = client.get(path)
            api_ms.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.content[:200])
        query, params = sql[name]
        for _ in range(args.repeat):
            with org_context(org), connection.cursor() as cursor:
                t = time.perf_counter()
                cursor.execute(query, params)
                cursor.fetchall()
                sql_ms.append((time.perf_counter() - t) * 1000)
        a, s = percentiles(api_ms), percentiles(sql_ms)
        print(
            f"{name:<20} {a[0]:>6.1f}/{a[1]:>6.1f}/{a[2]:>6.1f}   {s[0]:>6.1f}/{s[1]:>6.1f}/{s[2]:>6.1f}   {a[1] / s[1]:>8.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
