"""Extension fields in flat CSV and Excel files: columns after the HTCDS ones, under their own
names, formula-neutralised like every cell, and imported back."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tessera.cases import services
from tessera.cases.documents import import_case_document
from tessera.cases.models import Case
from tessera.exchange.columns import full_header
from tessera.exchange.models import ImportStatus
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

from .conftest import World, make_member
from .exchange_helpers import comparable, do_export, do_import, fresh_org, officer_in, xlsx_cells

FIELDS: list[dict[str, Any]] = [
    {"entity": "case", "name": "intake-channel", "type": "picklist", "choices": ["web", "phone"]},
    {"entity": "case", "name": "reviewed-on", "type": "date"},
    {"entity": "case", "name": "flagged", "type": "checkbox"},
    {"entity": "person", "name": "safe-time", "type": "text"},
    {"entity": "person", "name": "languages", "type": "multiselect", "choices": ["fr", "tw"]},
    {"entity": "party", "name": "risk-score", "type": "number"},
    # Equal to Tessera's own `team` column, and defined for cases and people alike: qualified.
    {"entity": "person", "name": "team", "type": "text"},
    {"entity": "case", "name": "code", "type": "text"},
    {"entity": "party", "name": "code", "type": "text"},
]
DOCUMENT = {
    "case": {
        "cas_ReferringOrganisation": "Police",
        "extensions": {
            "intake-channel": "phone",
            "reviewed-on": "2024-05-06",
            "flagged": True,
            "code": "C-1",
        },
    },
    "people": [
        {
            "ref": "v",
            "role": "Victim",
            "prs_FirstName": "Lina",
            "extensions": {
                "safe-time": '=HYPERLINK("http://x")',
                "languages": ["fr", "tw"],
                "risk-score": 7,
                "team": "north",
                "code": "P-1",
            },
        },
        {"ref": "w", "role": "Witness", "prs_FirstName": "Kofi", "extensions": {"risk-score": 2.5}},
    ],
}


def _org_with_fields(slug: str) -> Organisation:
    org = fresh_org(slug)
    user = make_member(org, Role.ORG_ADMIN)
    admin = Membership.objects.select_related("org", "user").get(user=user, org=org)
    with org_context(org):
        for field in FIELDS:
            services.define_extension_field(actor=admin, label=field["name"].title(), **field)
    return org


def _seeded() -> Membership:
    (officer,) = officer_in(_org_with_fields("ext-source"))
    with org_context(officer.org):
        import_case_document(actor=officer, document=DOCUMENT)
    return officer


def _rows(data: bytes) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header, *rows = list(reader)
    return [dict(zip(header, row, strict=True)) | {"__header__": header} for row in rows]


def test_flat_exports_carry_extension_fields_in_columns_after_the_htcds_ones(
    world: World,
) -> None:
    rows = _rows(do_export(_seeded(), "csv"))
    header = rows[0]["__header__"]
    extra = header[len(full_header()) :]
    assert extra == [
        "case.code",
        "flagged",
        "intake-channel",
        "reviewed-on",
        "person.code",
        "languages",
        "risk-score",
        "safe-time",
        "person.team",
    ]
    first, second = rows
    assert first["intake-channel"] == second["intake-channel"] == "phone"
    assert first["flagged"] == "TRUE" and first["reviewed-on"] == "2024-05-06"
    assert first["case.code"] == "C-1" and first["person.code"] == "P-1"
    assert first["languages"] == "fr;tw" and first["risk-score"] == "7"
    assert first["person.team"] == "north" and first["team"] == ""
    # Neutralised like every cell: no spreadsheet runs it.
    assert first["safe-time"] == '\'=HYPERLINK("http://x")'
    assert second["risk-score"] == "2.5" and second["safe-time"] == ""


def test_the_excel_export_labels_extension_columns_in_its_second_row(world: World) -> None:
    header, labels, *_rows = xlsx_cells(do_export(_seeded(), "xlsx"))
    start = len(full_header())
    assert header[start:][:2] == ["case.code", "flagged"]
    assert labels[start:][:2] == ["Code", "Flagged"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_extension_fields_survive_a_flat_round_trip(world: World, fmt: str) -> None:
    source = _seeded()
    (target,) = officer_in(_org_with_fields(f"ext-target-{fmt}"))
    first = do_export(source, fmt)
    job = do_import(target, first, f"cases.{fmt}")
    assert job.status == ImportStatus.DONE, job.report
    assert comparable(do_export(target, fmt), fmt) == comparable(first, fmt)
    with org_context(target.org):
        case = Case.objects.get()
        victim, witness = (p for p in case.parties.select_related("person").order_by("role"))
    assert case.extensions == DOCUMENT["case"]["extensions"]
    assert victim.person.extensions == {
        "safe-time": '=HYPERLINK("http://x")',
        "languages": ["fr", "tw"],
        "team": "north",
    }
    assert victim.extensions == {"risk-score": 7, "code": "P-1"}
    assert witness.extensions == {"risk-score": 2.5}


def test_a_refused_extension_value_is_reported_at_its_row_and_column(world: World) -> None:
    (officer,) = officer_in(_org_with_fields("ext-refused"))
    header = ["case_ref", "prs_FirstName", "intake-channel", "risk-score", "reviewed-on"]
    rows = [
        ["1", "Ama", "fax", "3", ""],
        ["1", "Kojo", "fax", "", ""],
        ["2", "Efua", "web", "", "2024-02-30"],
        ["3", "Yaw", "web", "many", ""],
        ["4", "Esi", "web", "", ""],
        ["4", "Abena", "phone", "", ""],
    ]
    data = "\r\n".join(",".join(row) for row in [header, *rows]).encode()
    job = do_import(officer, data, "bad.csv", dry_run=True)
    assert job.status == ImportStatus.INVALID
    found = {(p["row"], p["column"]) for p in job.report if p["level"] == "error"}
    assert found == {
        (2, "intake-channel"),
        (4, "reviewed-on"),
        (5, "risk-score"),
        (7, "intake-channel"),
    }


def test_extension_columns_of_another_organisation_are_unknown_columns(world: World) -> None:
    data = do_export(_seeded(), "csv")
    (plain,) = officer_in(fresh_org("ext-none"))
    job = do_import(plain, data, "cases.csv", dry_run=True)
    assert job.status == ImportStatus.INVALID
    unknown = {p["column"] for p in job.report if p["row"] == 1}
    assert {"intake-channel", "person.code", "safe-time"} <= unknown
