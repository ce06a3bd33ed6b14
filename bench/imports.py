"""Import throughput: an HTCDS CSV of N rows into PostgreSQL with validation, encryption and audit,
against a bare COPY of the same file in the same run.

    .venv/bin/python bench/imports.py --postgres --rows 200000

Runs the real import (dry-run validation, then the batched commit) as the non-owner application
role, so row-level security applies; then COPYs the same file into an unlogged text table on the
same connection. Writes nothing outside the throw-away database.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import machine, parse_args, setup_django

HEADER = [
    "case_ref",
    "role",
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "prs_MobilePhone",
    "prs_MailingCity",
    "vic_TraffickingStatus",
    "vic_TypeOfExploitation",
    "vic_MethodsOfControl",
    "cas_ReferringOrganisation",
    "cas_IncomingReferralDate",
    "con_Consent",
    "consent_statistics",
]
GENDERS = ["Feminine", "Masculine", "NonSpecifiedUnknown"]
TYPES = ["ForcedLabour", "SexualExploitation", "ChildLabour", "ForcedMarriage", "Servitude"]
CONTROLS = ["DebtBondage", "WithholdsDocuments", "PhysicalThreats", "FalsePromises"]


def make_csv(rows: int) -> bytes:
    rng = random.Random(11)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    case = 0
    for i in range(rows):
        if i % 4 != 1:  # three cases in four have one person, the fourth has two
            case += 1
        writer.writerow(
            [
                f"C{case}",
                "PotentialVictim",
                f"Given{i}",
                f"Family{rng.randrange(10**6)}",
                f"{rng.randrange(1960, 2010)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                rng.choice(GENDERS),
                rng.choice(["TH", "VN", "NG", "RO"]),
                f"+4477009{i:05d}"[:14],
                rng.choice(["Leeds", "Hull", "Bangkok"]),
                "PossibleVictimOfTrafficking",
                ";".join(rng.sample(TYPES, 2)),
                ";".join(rng.sample(CONTROLS, 2)),
                "Police unit",
                "2023-05-01",
                rng.choice(["TRUE", "FALSE"]),
                rng.choice(["TRUE", "FALSE", ""]),
            ]
        )
    return out.getvalue().encode()


def main() -> int:
    args = parse_args(__doc__ or "", rows=200_000, batch=1_000)
    label = setup_django(args)
    from django.conf import settings
    from django.db import connection

    from tessera.accounts.services import create_user
    from tessera.audit.context import Actor, acting_as
    from tessera.exchange import services
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import add_member, create_organisation

    org = create_organisation(slug="bench", name="Bench", shipping_country="GB")
    user = create_user(email="officer@bench.test", password="bench-password-123456")  # noqa: S106
    add_member(org=org, user=user, role="org_admin")
    actor = Membership.objects.select_related("org", "user").get(user=user, org=org)
    data = make_csv(args.rows)
    print(f"{label}; {machine()}; {args.rows} rows, {len(data) / 2**20:.1f} MiB")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}")

    with acting_as(Actor(user.pk, user.email)):
        started = time.perf_counter()
        job = services.create_import_job(actor=actor, data=data, filename="bench.csv")
        uploaded = time.perf_counter()
        job = services.validate_import(actor=actor, job=job)
        validated = time.perf_counter()
        assert job.status == "validated", job.report[:3]
        job = services.commit_import(actor=actor, job=job, batch_size=args.batch)
        committed = time.perf_counter()
    assert job.status == "done" and job.created_cases == job.total
    total = committed - started
    print(f"upload (seal file): {uploaded - started:6.1f} s")
    print(
        f"dry-run validation: {validated - uploaded:6.1f} s ({args.rows / (validated - uploaded):,.0f} rows/s)"
    )
    print(
        f"batched commit:     {committed - validated:6.1f} s ({args.rows / (committed - validated):,.0f} rows/s)"
    )
    print(
        f"import, end to end: {total:6.1f} s ({args.rows / total:,.0f} rows/s; {job.total} cases)"
    )

    copy_seconds = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            columns = ", ".join(f'"{c}" text' for c in HEADER)
            cursor.execute(f"CREATE UNLOGGED TABLE bench_copy ({columns})")
            copy_started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(data)
            connection.commit() if not connection.get_autocommit() else None
            copy_seconds = time.perf_counter() - copy_started
            cursor.execute("SELECT count(*) FROM bench_copy")
            assert cursor.fetchone()[0] == args.rows
        print(f"bare COPY:          {copy_seconds:6.1f} s ({args.rows / copy_seconds:,.0f} rows/s)")
        print(f"import / COPY:      {total / copy_seconds:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
