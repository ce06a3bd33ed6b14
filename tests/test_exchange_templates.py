"""IOM's official Excel templates, exactly as shipped, filled with rows by the test."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from tessera.cases.models import Case, CaseParty
from tessera.consent.models import Consent
from tessera.exchange.models import ImportStatus
from tessera.tenancy.context import org_context

from .conftest import SHARED_DIR, World
from .exchange_helpers import do_import, officer_in

SOURCE = SHARED_DIR / "reference" / "htcds" / "source"
TEMPLATES = [
    "HTCDS Excel Spreadsheet v2.0.xlsx",
    "HTCDS Excel Spreadsheet single select with validation v2.0.xlsx",
]

# Values as a data officer types them: labels from the template's validation lists, names, several
# values in one cell, Excel dates, the misspelt and the unnamed columns.
ROWS = [
    {
        "cas_CaseOwner": "officer@network.test",
        "prs_FirstName": "Lin",
        "prs_SecondName": "Chen",
        "con_Consent": "Yes",
        "prs_Birthdate": datetime(1990, 5, 17),
        "prs_Gender": "Feminine",
        "prs_Citizenship": "TH",
        "prs_MobilePhone": "+66 81 234 5678",
        "prs_MailingCity": "Bangkok",
        "vic_TraffickingStatus": "Possible victim of trafficking",
        "vic_TraffickinStatusDecisionMakingOrg": "Police",
        "vic_MethodsOfControl": "Debt bondage ;Withholds documents",
        "vic_TypeOfExploitation": "Forced labour",
        "vic_ForcedLabourIndustry": "Agriculture, forestry and fishing",
        "cas_Status": "Follow up",
        "cas_IncomingReferralDate": datetime(2023, 2, 1),
        "cas_ReferredOrganisation": "Harbour House",
        36: "Additional Services Required",  # the unnamed column: cas_ReasonForOutgoingReferral
    },
    {
        "cas_CaseOwner": "Somchai (former staff)",
        "prs_FirstName": "Mai",
        "con_Consent": "FALSE",
        "prs_Gender": "Masculine",
        "vic_TypeOfExploitation": "Sexual exploitation;Forced begging",
        "cas_Status": "Closed",
        "cas_ReasonForCaseClosure": "Returned home",
    },
]


def _filled(name: str) -> bytes:
    path = SOURCE / name
    if not path.exists():
        pytest.skip(f"{path} is absent (set TESSERA_SHARED_DIR)")
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    for offset, row in enumerate(ROWS):
        for key, value in row.items():
            column = key if isinstance(key, int) else header.index(key) + 1
            sheet.cell(row=3 + offset, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.shared
@pytest.mark.parametrize("template", TEMPLATES)
def test_an_official_template_imports_without_loss(world: World, template: str) -> None:
    (actor,) = officer_in(world.a)
    job = do_import(actor, _filled(template), Path(template).name)
    assert job.status == ImportStatus.DONE, job.report
    assert job.created_cases == 2
    with org_context(world.a):
        lin = CaseParty.objects.select_related("case", "person").get(
            person__first_name_index=_index("Lin")
        )
        assert lin.person.second_name == "Chen"
        assert str(lin.person.birthdate) == "1990-05-17"
        assert lin.person.citizenship == ["TH"]
        assert lin.person.mobile_phone == "+66 81 234 5678"
        assert lin.trafficking_status == "PossibleVictimOfTrafficking"
        assert lin.trafficking_status_decision_making_org == "Police"
        assert lin.methods_of_control == ["DebtBondage", "WithholdsDocuments"]
        assert lin.forced_labour_industry
        assert lin.case.status == "FollowUp"
        assert lin.case.owner is not None and lin.case.owner.email == "officer@network.test"
        assert str(lin.case.incoming_referral_date) == "2023-02-01"
        note = lin.case.notes.get().body
        assert "Harbour House" in note and "AdditionalServicesRequired" in note
        assert Consent.objects.get(person=lin.person, purpose="care").is_given is True
        closed = Case.objects.exclude(pk=lin.case_id).get()
        assert closed.status == "Closed"
        assert closed.reason_for_case_closure == "Returned home"
        assert "Somchai (former staff)" in closed.notes.get().body
        mai = closed.parties.get()
        assert sorted(mai.type_of_exploitation) == ["ForcedBegging", "SexualExploitation"]


def _index(value: str) -> str:
    from tessera.vault.fields import index_for

    return index_for("name", value)
