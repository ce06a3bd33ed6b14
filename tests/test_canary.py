"""Canaries: unique strings put into identifying fields must appear in no file, dump or log."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from tessera.cases.models import Person
from tessera.tenancy.context import org_context
from tessera.tenancy.services import create_organisation
from tessera.vault.fields import index_for

from .conftest import ON_POSTGRES

IDENTIFYING_FIELDS = (
    "first_name",
    "middle_name",
    "second_name",
    "identity_number",
    "email",
    "mobile_phone",
    "home_phone",
    "mailing_street",
    "mailing_city",
)


def canaries() -> dict[str, str]:
    token = uuid.uuid4().hex[:12]
    values = {
        field: f"CANARY{field.replace('_', '').upper()}{token}" for field in IDENTIFYING_FIELDS
    }
    values["mobile_phone"] = "+4420" + str(int(token, 16))[:8]
    return values


def assert_no_canary(blob: bytes, values: dict[str, str], where: str) -> None:
    lowered = blob.lower()
    for field, value in values.items():
        assert value.lower().encode() not in lowered, f"{field} canary found in {where}"


CANARY_SCRIPT = """
import json, sys
from tessera.cases.models import Person
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Organisation
from tessera.vault.fields import index_for
values = json.loads(sys.argv[-1])
org = Organisation.objects.get(slug="harbour")
with org_context(org):
    person = Person.objects.create(**values)
    again = Person.objects.get(first_name_index=index_for("name", values["first_name"]))
    same = all(getattr(again, k) == v for k, v in values.items())
print("ROUNDTRIP_OK" if same else "ROUNDTRIP_FAILED")
"""


def test_canaries_reach_no_byte_of_the_sqlite_files_or_the_logs(tmp_path: Path) -> None:
    tessera = Path(sys.executable).with_name("tessera")
    python = sys.executable
    env = {
        **os.environ,
        "TESSERA_DATA_DIR": str(tmp_path),
        "TESSERA_LOG_LEVEL": "DEBUG",
        "TESSERA_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "tessera.settings.dev",
    }
    env.pop("DATABASE_URL", None)
    env.pop("TESSERA_MASTER_KEY", None)
    demo = subprocess.run(
        [str(tessera), "demo", "--no-serve"], env=env, capture_output=True, timeout=300, check=True
    )
    values = canaries()
    script = tmp_path / "canary_script.py"
    script.write_text(CANARY_SCRIPT)
    run = subprocess.run(
        [
            python,
            "-c",
            f"import django; django.setup(); exec(open({str(script)!r}).read())",
            json.dumps(values),
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert b"ROUNDTRIP_OK" in run.stdout
    logs = demo.stdout + demo.stderr + run.stdout + run.stderr
    assert_no_canary(logs, values, "the logs")
    database_files = sorted(tmp_path.glob("tessera.sqlite3*"))
    assert database_files, "no SQLite file was written"
    for path in database_files:
        assert_no_canary(path.read_bytes(), values, path.name)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES")
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_canaries_reach_no_byte_of_a_pg_dump_or_the_logs(
    transactional_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    values = canaries()
    org = create_organisation(slug="canary", name="Canary Org")
    with org_context(org):
        Person.objects.create(**values)
    with org_context(org):
        found = Person.objects.get(mobile_phone_index=index_for("phone", values["mobile_phone"]))
        assert found.first_name == values["first_name"]
    settings_dict = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--host",
            settings_dict["HOST"] or "127.0.0.1",
            "--port",
            str(settings_dict["PORT"] or 5432),
            "--username",
            settings_dict["USER"] or "postgres",
            "--no-password",
            settings_dict["NAME"],
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert b"cases_person" in dump.stdout
    assert_no_canary(dump.stdout, values, "pg_dump")
    assert_no_canary(caplog.text.encode(), values, "the logs")
