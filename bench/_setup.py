"""Shared set-up for benchmarks: a throw-away database (SQLite file, or PostgreSQL via --postgres)."""

from __future__ import annotations

import argparse
import atexit
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path


def parse_args(description: str, **defaults: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        nargs="?",
        const="postgres://postgres@127.0.0.1:5432/postgres",
        help="run on a fresh PostgreSQL database created through this admin URL",
    )
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value)
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> str:
    """Point Tessera at a fresh database, migrate it, and return a label for the report."""
    data_dir = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    os.environ["TESSERA_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings.dev")
    os.environ.pop("TESSERA_MASTER_KEY", None)
    label = "SQLite (file, WAL)"
    if args.postgres:
        name = f"tessera_bench_{int(time.time())}_{os.getpid()}"
        subprocess.run(["psql", args.postgres, "-qc", f"CREATE DATABASE {name}"], check=True)
        base = args.postgres.rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        label = "PostgreSQL 15 (localhost)"
        if getattr(args, "keep", 0):
            print(f"keeping the database {name} (--keep 1): drop it yourself")
        else:
            atexit.register(_drop_database, args.postgres, name)
    import django

    django.setup()
    from django.core.management import call_command

    from tessera.vault.keyring import ensure_key_file

    ensure_key_file()
    call_command("migrate", verbosity=0)
    return label


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _drop_database(admin_url: str, name: str) -> None:
    from django.db import connections

    connections.close_all()
    subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=False)
