"""Submissions of IOM's htcds_xlsform from ODK Central and KoboToolbox, CSV and JSON."""

from __future__ import annotations

import json

import pytest

from tessera.cases.models import CaseParty
from tessera.consent.models import Consent
from tessera.exchange.models import ImportStatus
from tessera.exchange.xlsform import (
    official_form_path,
    packaged_questions,
    questions,
    questions_from_form,
)
from tessera.tenancy.context import org_context
from tessera.vault.fields import index_for

from .conftest import World
from .exchange_helpers import do_import, officer_in


def test_the_packaged_map_is_the_official_form_read_by_pyxform() -> None:
    if not official_form_path().exists():
        pytest.skip(f"{official_form_path()} is absent (set TESSERA_SHARED_DIR): cannot compare")
    assert packaged_questions() == questions_from_form(official_form_path())


ODK_CSV = (
    "SubmissionDate,start,end,con_Consent,prs_First_Name,prs_Second_Name,prs_Birthdate,prs_Gender,"
    "prs_Citizenship,vic_Methods_of_Control,vic_TypeOfExploitation,cas_Status,meta-instanceID,KEY\r\n"
    "2024-01-02T10:00:00Z,x,y,TRUE,Rosa,Lima,1995-03-04,Feminine,BR,DebtBondage WithholdsDocuments,"
    "ForcedLabour,Active,uuid:1111,uuid:1111\r\n"
)
KOBO_JSON = [
    {
        "_id": 7,
        "_uuid": "2222",
        "formhub/uuid": "abc",
        "con_Consent": "FALSE",
        "prs_First_Name": "Tomas",
        "prs_Gender": "Masculine",
        "vic_TypeOfExploitation": "SexualExploitation ForcedBegging",
        "meta/instanceID": "uuid:2222",
        "_submission_time": "2024-01-02T10:00:00",
    }
]


def test_the_form_definition_maps_its_names_to_htcds() -> None:
    found = questions()
    assert found["prs_First_Name"].field == "prs_FirstName"
    assert found["vic_Methods_of_Control"].field == "vic_MethodsOfControl"
    assert found["vic_TypeOfExploitation"].kind == "select all that apply"


def test_odk_central_csv_and_kobo_json_submissions_import(world: World) -> None:
    (actor,) = officer_in(world.a)
    odk = do_import(actor, ODK_CSV.encode(), "submissions.csv")
    assert odk.format == "xlsform" and odk.status == ImportStatus.DONE, odk.report
    kobo = do_import(actor, json.dumps({"results": KOBO_JSON}).encode(), "kobo.json")
    assert kobo.format == "xlsform" and kobo.status == ImportStatus.DONE, kobo.report
    again = do_import(actor, ODK_CSV.encode(), "submissions-again.csv")
    assert again.created_cases == 0 and again.skipped == 1
    with org_context(world.a):
        rosa = CaseParty.objects.get(person__first_name_index=index_for("name", "Rosa"))
        assert rosa.person.second_name == "Lima"
        assert rosa.methods_of_control == ["DebtBondage", "WithholdsDocuments"]
        assert rosa.person.citizenship == ["BR"]
        tomas = CaseParty.objects.get(person__first_name_index=index_for("name", "Tomas"))
        assert tomas.type_of_exploitation == ["ForcedBegging", "SexualExploitation"]
        assert Consent.objects.get(person=tomas.person).is_given is False


def test_an_answer_to_a_question_not_in_the_form_is_reported(world: World) -> None:
    (actor,) = officer_in(world.a)
    data = ODK_CSV.replace("KEY\r\n", "KEY,shoe_size\r\n").replace(
        "uuid:1111\r\n", "uuid:1111,42\r\n"
    )
    job = do_import(actor, data.encode(), "s.csv", fmt="xlsform")
    assert job.status == ImportStatus.INVALID
    assert job.report[0]["column"] == "shoe_size"
