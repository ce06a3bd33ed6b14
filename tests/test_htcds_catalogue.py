"""The HTCDS catalogue in the package is exactly the reference standard, and drives validation."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal

import pytest

from tessera.htcds import generate
from tessera.htcds.catalogue import field, fields, picklists
from tessera.htcds.schema import case_document_schema
from tessera.htcds.validation import HtcdsValidationError, coerce_value, coerce_values

from .conftest import SHARED_DIR

CSV_DIR = generate.reference_csv_dir(SHARED_DIR)
needs_shared = pytest.mark.skipif(
    not CSV_DIR.exists(), reason=f"HTCDS reference absent at {CSV_DIR}: catalogue match not checked"
)


@pytest.mark.shared
@needs_shared
def test_generated_files_match_a_fresh_generation_from_the_reference() -> None:
    catalogue = generate.build_catalogue(CSV_DIR)
    assert generate.CATALOGUE_PATH.read_text() == generate.render_catalogue(catalogue)
    assert generate.LABELS_PATH.read_text() == generate.render_labels(catalogue)


@pytest.mark.shared
@needs_shared
def test_catalogue_holds_every_reference_field_and_picklist_value() -> None:
    with (CSV_DIR / "Field_Standards_tidy.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["Field Name including Prefix"] for r in rows] == list(fields())
    for row in rows:
        spec = field(row["Field Name including Prefix"])
        assert (spec.label, spec.type, spec.core) == (
            row["Field Label"],
            row["Field Type"],
            row["Core"] == "Core",
        )
    with (CSV_DIR / "enumerations_long.csv").open(newline="") as handle:
        values = [(r["field"], r["value_name"], r["value_label"]) for r in csv.DictReader(handle)]
    ours = [(p.field, c.name, c.label) for p in picklists().values() for c in p.choices]
    assert ours == values


def test_catalogue_has_the_standards_shape() -> None:
    assert len(fields()) == 83
    assert len(picklists()) == 26
    assert sum(f.core for f in fields().values()) == 40
    assert [c.name for c in picklists()["hte_Type"].choices] == [
        "Recruitment",
        "Transit",
        "Exploitation",
    ]
    assert picklists()["prs_Citizenship"].standard == "iso3166-alpha2"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("prs_Gender", "Feminine", "Feminine"),
        (
            "vic_TypeOfExploitation",
            ["SexualExploitation", "ForcedLabour"],
            ["ForcedLabour", "SexualExploitation"],
        ),
        ("prs_Citizenship", ["GB", "RO"], ["GB", "RO"]),
        ("prs_Birthdate", "2001-02-03", date(2001, 2, 3)),
        ("hte_Latitude", 51.5, Decimal("51.500000")),
        ("prs_NumberOfChildren", 2, 2),
        ("prs_Deceased", False, False),
        ("hte_Country", "TH", "TH"),
    ],
)
def test_valid_values_are_coerced(name: str, value: object, expected: object) -> None:
    assert coerce_value(field(name), value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("prs_Gender", "Female"),
        ("vic_TypeOfExploitation", "ForcedLabour"),
        ("vic_TypeOfExploitation", ["Smuggling"]),
        ("prs_Citizenship", ["gb"]),
        ("prs_Birthdate", "03/02/2001"),
        ("hte_Latitude", 91),
        ("hte_Longitude", "east"),
        ("prs_NumberOfChildren", 2.5),
        ("prs_Deceased", "yes"),
        ("prs_FirstName", 42),
        ("hte_Country", "Thailand"),
    ],
)
def test_invalid_values_raise_an_error_naming_the_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        coerce_value(field(name), value)


def test_coerce_values_reports_every_bad_field_and_unknown_names() -> None:
    specs = {n: field(n) for n in ("prs_Gender", "prs_Birthdate")}
    with pytest.raises(HtcdsValidationError) as caught:
        coerce_values(specs, {"prs_Gender": "x", "prs_Birthdate": "nope", "prs_Nickname": "y"})
    assert set(caught.value.errors) == {"prs_Gender", "prs_Birthdate", "prs_Nickname"}


def test_document_schema_uses_exact_htcds_names_and_picklists() -> None:
    schema = case_document_schema()
    party = schema["properties"]["people"]["items"]["properties"]
    assert {"prs_FirstName", "vic_TypeOfExploitation", "per_RoleInProcess"} <= set(party)
    assert party["prs_Gender"]["enum"][:2] == ["Feminine", "Masculine"]
    event = schema["properties"]["events"]["items"]["properties"]
    assert event["hte_Type"]["enum"] == ["Recruitment", "Transit", "Exploitation", None]
    json.dumps(schema)  # serialisable as served
