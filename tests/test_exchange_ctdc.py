"""CTDC: export only people who consented to statistics; import CTDC layouts into analytics."""

from __future__ import annotations

import csv
import io

import pytest

from tessera.cases.documents import import_case_document
from tessera.exchange.ctdc_layout import COLUMNS
from tessera.exchange.models import CtdcRecord, ImportStatus
from tessera.tenancy.context import org_context

from .conftest import SHARED_DIR, World
from .exchange_helpers import do_import, officer_in


def _victim(actor, name: str, statistics: bool | None) -> None:
    consent = (
        []
        if statistics is None
        else [{"ref": "v", "purpose": "statistics", "con_Consent": statistics}]
    )
    with org_context(actor.org):
        import_case_document(
            actor=actor,
            document={
                "case": {},
                "people": [
                    {
                        "ref": "v",
                        "role": "Victim",
                        "prs_FirstName": name,
                        "prs_Gender": "Feminine",
                        "prs_Citizenship": ["VN"],
                        "vic_TypeOfExploitation": ["ForcedLabour"],
                        "vic_MethodsOfControl": ["DebtBondage"],
                        "vic_ForcedLabourIndustry": "F_Construction",
                    },
                    {"ref": "p", "role": "Perpetrator", "prs_FirstName": "X"},
                ],
                "events": [{"hte_Type": "Exploitation", "hte_Country": "GB"}],
                "consent": consent,
            },
        )


def test_ctdc_export_holds_only_victims_who_consented_to_statistics(world: World) -> None:
    from tessera.audit.context import Actor, acting_as
    from tessera.exchange.ctdc import export_ctdc

    (actor,) = officer_in(world.a)
    _victim(actor, "Yes", True)
    _victim(actor, "No", False)
    _victim(actor, "Never asked", None)
    with acting_as(Actor(actor.user_id, actor.user.email)):
        rows = list(csv.DictReader(io.StringIO(export_ctdc(actor=actor).decode())))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == COLUMNS
    assert row["gender"] == "Female" and row["citizenship"] == "VN"
    assert row["isForcedLabour"] == "1" and row["isSexualExploit"] == "0"
    assert row["meansOfControlDebtBondage"] == "1" and row["typeOfLabourConstruction"] == "1"
    assert row["CountryOfExploitation"] == "GB"
    assert row["ageBroad"] == "-99" and "Yes" not in ",".join(row.values())


GLOBAL = "yearOfRegistration,Datasource,gender,ageBroad,citizenship,isForcedLabour,isSexualExploit\r\n2016,Case management,Female,9--17,UA,1,0\r\n2017,Case management,-99,-99,-99,-99,1\r\n"
DOWNLOAD = (
    '"By using this data you agree to the CTDC terms of use";;;;\r\n'
    "yearOfRegistration;gender;ageBroad;citizenship;isForcedLabour;isSexualExploit\r\n"
    "2019;Male;;PH;1;\r\n"
)


@pytest.mark.parametrize(
    ("data", "dataset", "count"),
    [(GLOBAL, "ctdc_global", 2), (DOWNLOAD, "ctdc_global_download", 1)],
)
def test_both_ctdc_layouts_import_into_the_analytics_table(
    world: World, data: str, dataset: str, count: int
) -> None:
    (actor,) = officer_in(world.a)
    job = do_import(actor, data.encode(), "ctdc.csv")
    assert job.format == "ctdc" and job.status == ImportStatus.DONE, job.report
    again = do_import(actor, data.encode(), "ctdc.csv")
    assert again.created_cases == 0
    with org_context(world.a):
        records = list(CtdcRecord.objects.order_by("year"))
    assert len(records) == count and {r.dataset for r in records} == {dataset}
    assert records[0].is_forced_labour is True
    if dataset == "ctdc_global":
        assert records[1].values["gender"] is None and records[1].is_forced_labour is None
    else:
        assert records[0].values["ageBroad"] is None and records[0].gender == "Male"


@pytest.mark.shared
def test_the_victim_perpetrator_synthetic_file_imports(world: World) -> None:
    path = SHARED_DIR / "data" / "ctdc_vp_synthetic_2022" / "CTDC_VPsynthetic_condensed.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent (set TESSERA_SHARED_DIR)")
    (actor,) = officer_in(world.a)
    data = path.read_bytes()
    job = do_import(actor, data, path.name)
    assert job.status == ImportStatus.DONE, job.report[:3]
    lines = [line for line in data.decode().splitlines()[1:] if line.strip(",")]
    with org_context(world.a):
        assert CtdcRecord.objects.filter(dataset="ctdc_vp_synthetic_2022").count() == len(lines)
        assert CtdcRecord.objects.filter(values__IP_Gender="Female;Male").exists()
