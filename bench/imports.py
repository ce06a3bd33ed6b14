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
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_floor
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


class Clock:
    """Wall time and CPU time of this process, of its finished worker processes and of the
    PostgreSQL backend serving it, so that a loaded machine's waiting can be told from work."""

    def __init__(self, backend_pid: int | None) -> None:
        self.backend_pid = backend_pid
        self.marks: list[tuple[str, float, float, float, float]] = []
        self.mark("start")

    def _backend_cpu(self) -> float:
        if self.backend_pid is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def mark(self, label: str) -> None:
        times = os.times()
        self.marks.append(
            (
                label,
                time.perf_counter(),
                times.user + times.system,
                times.children_user + times.children_system,
                self._backend_cpu(),
            )
        )

    def report(self, rows: int) -> None:
        print(
            f"{'phase':20s} {'wall s':>8s} {'rows/s':>9s} {'cpu s: here':>12s} {'workers':>8s} {'database':>9s}"
        )
        steps = list(zip(self.marks, self.marks[1:], strict=False))
        steps.append((self.marks[0], ("import, end to end", *self.marks[-1][1:])))
        for (_, wall0, own0, kids0, db0), (label, wall1, own1, kids1, db1) in steps:
            wall = wall1 - wall0
            print(
                f"{label:20s} {wall:8.1f} {rows / wall:9,.0f} {own1 - own0:12.1f} "
                f"{kids1 - kids0:8.1f} {db1 - db0:9.1f}"
            )


def main() -> int:
    args = parse_args(__doc__ or "", rows=200_000, batch=1_000, workers=0, keep=0)
    if args.workers:
        os.environ["TESSERA_IMPORT_WORKERS"] = str(args.workers)
    label = setup_django(args)
    from django.conf import settings
    from django.db import connection

    from tessera.accounts.services import create_user
    from tessera.audit.context import Actor, acting_as
    from tessera.audit.verify import verify_all
    from tessera.exchange import parallel, services
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import add_member, create_organisation

    org = create_organisation(slug="bench", name="Bench", shipping_country="GB")
    user = create_user(email="officer@bench.test", password="bench-password-123456")  # noqa: S106
    add_member(org=org, user=user, role="org_admin")
    actor = Membership.objects.select_related("org", "user").get(user=user, org=org)
    data = make_csv(args.rows)
    print(f"{label}; {machine()}; {args.rows} rows, {len(data) / 2**20:.1f} MiB")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"worker processes: {parallel.worker_count()}; commit batches of {args.batch} units")
    backend_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {connection.ops.quote_name(settings.TESSERA_APP_DB_ROLE)}")
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]

    clock = Clock(backend_pid)
    with acting_as(Actor(user.pk, user.email)):
        job = services.create_import_job(actor=actor, data=data, filename="bench.csv")
        clock.mark("upload (seal file)")
        job = services.validate_import(actor=actor, job=job)
        clock.mark("dry run (validate)")
        assert job.status == "validated", job.report[:3]
        job = services.commit_import(actor=actor, job=job, batch_size=args.batch)
        clock.mark("commit")
    assert job.status == "done" and job.created_cases == job.total
    clock.report(args.rows)
    _, start, own0, kids0, db0 = clock.marks[0]
    _, end, own1, kids1, db1 = clock.marks[-1]
    total = end - start
    cpu = (own1 - own0) + (kids1 - kids0) + (db1 - db0)
    print(
        f"end to end: {args.rows / total:,.0f} rows/s; {args.rows / cpu:,.0f} rows per CPU-second"
    )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    (chain,) = verify_all(org)
    assert chain.ok, chain.problem
    print(f"audit chain: {chain}")

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
        floor = import_floor.measure(
            connection.connection, org.pk, settings.TESSERA_APP_DB_ROLE, str(job.pk)
        )
        import_floor.report(floor, copy_seconds)
        print(f"load average after the floor: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
