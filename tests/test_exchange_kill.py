"""kill -9 in the middle of an import, then a re-run: the result equals a clean import.

Runs the real `tessera` command in subprocesses against a database of its own (a SQLite file, or a
fresh PostgreSQL database when TESSERA_TEST_POSTGRES is set), because killing the process that holds
the test transaction would prove nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import ON_POSTGRES

# Enough batches that a poll every 50 ms cannot miss the middle of the run, however fast it gets.
ROWS = 1200
BATCH = 10
GENDERS = ["Feminine", "Masculine", "NonSpecifiedUnknown"]


def _csv() -> bytes:
    lines = ["case_ref,role,prs_FirstName,prs_SecondName,prs_Gender,vic_TypeOfExploitation"]
    for i in range(ROWS):
        # Every third case has two people, so batches hold cases, not rows.
        ref = f"K{i // 3 if i % 3 else i}"
        lines.append(f"{ref},PotentialVictim,Name{i},Family{i},{GENDERS[i % 3]},ForcedLabour")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'kill.sqlite3'}"
        return
    import psycopg

    base = os.environ["TESSERA_TEST_POSTGRES"]
    name = f"tessera_kill_{uuid.uuid4().hex[:8]}"
    server = base.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{server}/{name}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def _tessera(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )


def test_an_import_killed_mid_run_resumes_to_the_state_of_a_clean_import(
    tmp_path: Path, database: str
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tessera.settings.dev",
        "DATABASE_URL": database,
        "TESSERA_DATA_DIR": str(tmp_path),
        "TESSERA_MASTER_KEY": "dGVzc2VyYS10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXM=",
        "TESSERA_SECRET_KEY": "kill-test-secret-key-kill-test-secret-key",
    }
    assert _tessera(env, "migrate").returncode == 0
    for slug in ("killed", "clean"):
        assert _tessera(env, "org", "create", slug, "--name", slug).returncode == 0
        created = _tessera(
            env,
            "user",
            "create",
            f"admin@{slug}.test",
            "--org",
            slug,
            "--role",
            "org_admin",
            "--password-stdin",
            input="kill-test-password-123456\n",
        )
        assert created.returncode == 0, created.stderr
    source = tmp_path / "cases.csv"
    source.write_bytes(_csv())
    command = [
        sys.executable,
        "-m",
        "tessera.cli",
        "import",
        str(source),
        "--org",
        "killed",
        "--batch-size",
        str(BATCH),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    processed = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        rows = _query(database, "SELECT processed FROM exchange_importjob")
        processed = rows[0][0] if rows else 0
        if processed >= 3 * BATCH:
            break
        time.sleep(0.05)
    # Freeze it first, so that nothing commits between this check and the kill.
    os.kill(process.pid, signal.SIGSTOP)
    assert process.poll() is None, "the import finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    (processed,) = _query(database, "SELECT processed FROM exchange_importjob")[0]
    (records,) = _query(database, "SELECT COUNT(*) FROM exchange_importedrecord")[0]
    (cases,) = _query(database, "SELECT COUNT(*) FROM cases_case")[0]
    total = _query(database, "SELECT total FROM exchange_importjob")[0][0]
    assert 0 < processed < total
    assert processed % BATCH == 0  # no partial batch
    assert records == cases == processed  # every committed case has its source key

    resumed = _tessera(env, "import", str(source), "--org", "killed", "--batch-size", str(BATCH))
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming import" in resumed.stderr
    clean = _tessera(env, "import", str(source), "--org", "clean", "--batch-size", str(BATCH))
    assert clean.returncode == 0, clean.stderr

    exports = []
    for slug in ("killed", "clean"):
        out = tmp_path / f"{slug}.csv"
        done = _tessera(
            env,
            "export",
            "htcds",
            "--org",
            slug,
            "--format",
            "csv",
            "-o",
            str(out),
            "--purpose",
            "kill test",
        )
        assert done.returncode == 0, done.stderr
        # Each organisation's cases are owned by its own administrator; all else must be equal.
        exports.append(out.read_text().replace(f"admin@{slug}.test", "OWNER"))
    assert exports[0] == exports[1]
    assert exports[0].count("\n") == ROWS + 1
