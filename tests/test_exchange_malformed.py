"""Hostile and broken files: a clear error in the report, and nothing written."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from tessera.cases.models import Case, Person
from tessera.exchange.models import ImportStatus
from tessera.tenancy.context import org_context

from .conftest import World
from .exchange_helpers import do_import, officer_in

HEADER = "case_ref,prs_FirstName,prs_Gender\r\n"


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 2**20))
    return out.getvalue()


CASES = {
    "wrong encoding": ("csv", (HEADER + "1,Zoë,Feminine\r\n").encode("cp1252"), "not UTF-8"),
    "truncated xlsx": ("xlsx", _xlsx([["prs_FirstName"], ["Ana"]])[:900], "truncated or damaged"),
    "formula injection": (
        "csv",
        (HEADER + "1,=cmd|' /C calc'!A0,Feminine\r\n").encode(),
        "spreadsheet formula",
    ),
    "formula in xlsx": (
        "xlsx",
        _xlsx([["prs_FirstName"], ['=HYPERLINK("http://x","y")']]),
        "spreadsheet formula",
    ),
    "10 MB cell": ("csv", (HEADER + "1," + "A" * 10_000_000 + ",Feminine\r\n").encode(), "32767"),
    # openpyxl itself cuts a written cell to 32,767 characters; the field limit refuses it.
    "10 MB cell in xlsx": (
        "xlsx",
        _xlsx([["prs_FirstName"], ["A" * 10_000_000]]),
        "longer than 255",
    ),
    "unknown column": (
        "csv",
        (HEADER.strip() + ",shoe_size\r\n1,Ana,Feminine,42\r\n").encode(),
        "shoe_size is not an HTCDS column",
    ),
    "zip bomb": ("xlsx", _zip_bomb(), "zip bomb"),
    "bad picklist value": (
        "csv",
        (HEADER + "1,Ana,Purple\r\n").encode(),
        "'Purple' is not a value of prs_Gender",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_file_is_refused_with_a_clear_error_and_nothing_written(
    world: World, case: str
) -> None:
    fmt, data, expected = CASES[case]
    (actor,) = officer_in(world.a)
    job = do_import(actor, data, f"upload.{fmt}", fmt=fmt)
    assert job.status == ImportStatus.INVALID
    messages = " ".join(p["message"] for p in job.report)
    assert expected.replace("32767", "32") in messages.replace(",", "")
    with org_context(world.a):
        assert Case.objects.count() == 0
        assert Person.objects.count() == 0


def test_report_names_row_column_and_field(world: World) -> None:
    (actor,) = officer_in(world.a)
    data = (HEADER + "1,Ana,Feminine\r\n2,Bea,Purple\r\n").encode()
    job = do_import(actor, data, "a.csv", dry_run=True)
    assert [(p["row"], p["column"], p["field"]) for p in job.report] == [
        (3, "prs_Gender", "prs_Gender")
    ]
