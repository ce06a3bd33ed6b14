"""HTCDS JSON, CSV and Excel: import, export, and the round trip between organisations."""

from __future__ import annotations

import pytest

from tessera.cases.documents import import_case_document
from tessera.cases.models import Case, Person
from tessera.consent.models import Consent
from tessera.exchange.models import ImportStatus
from tessera.tenancy.context import org_context

from .conftest import World
from .exchange_helpers import comparable, do_export, do_import, fresh_org, officer_in

DOCUMENT = {
    "case": {
        "cas_ReferringOrganisation": "=Police Unit 7",
        "cas_IncomingReferralDate": "2024-03-01",
    },
    "people": [
        {
            "ref": "v",
            "role": "Victim",
            "prs_FirstName": "Amara",
            "prs_SecondName": "Okafor",
            "prs_Birthdate": "1999-04-02",
            "prs_Gender": "Feminine",
            "prs_Citizenship": ["NG", "GB"],
            "prs_MobilePhone": "+44 7700 900123",
            "vic_TypeOfExploitation": ["ForcedLabour", "SexualExploitation"],
            "vic_AgeWhenTrafficked": 17,
        },
        {"ref": "p", "role": "Perpetrator", "prs_FirstName": "-Unknown", "per_RoleInProcess": []},
    ],
    "consent": [
        {"ref": "v", "purpose": "care", "con_Consent": True},
        {"ref": "v", "purpose": "statistics", "con_Consent": False},
    ],
}


def _seed(actor) -> None:
    with org_context(actor.org):
        import_case_document(actor=actor, document=DOCUMENT)


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_export_then_import_into_an_empty_organisation_exports_the_same(
    world: World, fmt: str
) -> None:
    source, target = officer_in(world.a, fresh_org("empty"))
    _seed(source)
    first = do_export(source, fmt)
    job = do_import(target, first, f"cases.{fmt}")
    assert job.status == ImportStatus.DONE, job.report
    assert job.created_cases == 1
    second = do_export(target, fmt)
    assert comparable(second, fmt) == comparable(first, fmt)
    with org_context(target.org):
        assert Person.objects.count() == 2
        assert Consent.objects.filter(purpose="statistics", is_given=False).count() == 1


def test_csv_export_neutralises_formula_like_cells(world: World) -> None:
    (source,) = officer_in(world.a)
    _seed(source)
    text = do_export(source, "csv").decode()
    assert "'=Police Unit 7" in text
    assert ",'-Unknown," in text
    assert "'+44 7700 900123" in text


def test_reimporting_the_same_file_creates_nothing_new(world: World) -> None:
    source, target = officer_in(world.a, fresh_org("twice"))
    _seed(source)
    data = do_export(source, "csv")
    do_import(target, data, "a.csv")
    again = do_import(target, data, "a.csv")
    assert again.created_cases == 0
    assert again.skipped == 1
    with org_context(target.org):
        assert Case.objects.count() == 1


def test_a_finished_import_destroys_its_copy_of_the_uploaded_file(world: World) -> None:
    from tessera.exchange.models import ImportJob
    from tessera.vault.models import SubjectKey

    source, target = officer_in(world.a, fresh_org("shred"))
    _seed(source)
    job = do_import(target, do_export(source, "csv"), "a.csv")
    assert job.status == ImportStatus.DONE
    with org_context(target.org):
        stored = ImportJob.objects.get(pk=job.pk)
        assert stored.__dict__["content"] is None
        assert not SubjectKey.objects.filter(subject_id=job.pk).exists()


def test_people_matching_existing_people_by_blind_index_are_reported(world: World) -> None:
    source, target = officer_in(world.a, fresh_org("dupes"))
    _seed(source)
    _seed(target)
    job = do_import(target, do_export(source, "csv"), "a.csv", dry_run=True)
    assert job.status == ImportStatus.VALIDATED
    warnings = [p for p in job.report if p["level"] == "warning"]
    assert warnings and "Matches existing person" in warnings[0]["message"]
    assert warnings[0]["row"] == 2


def test_the_bulk_path_leaves_the_same_data_as_the_case_services(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tessera.audit.models import AuditEvent
    from tessera.exchange import services

    source, fast, slow = officer_in(world.a, fresh_org("fast"), fresh_org("slow"))
    _seed(source)
    _seed(source)
    data = do_export(source, "csv")
    do_import(fast, data, "a.csv")
    with monkeypatch.context() as patched:
        patched.setattr(services, "_uses_bulk", lambda job, units: False)
        do_import(slow, data, "a.csv")
    assert comparable(do_export(fast, "csv"), "csv") == comparable(do_export(slow, "csv"), "csv")
    with org_context(fast.org):
        batch = AuditEvent.objects.get(action="exchange.import_batch_bulk")
        assert "cases" in batch.reason and "4 people" in batch.reason
        assert not AuditEvent.objects.filter(action="person.create").exists()
    with org_context(slow.org):
        assert AuditEvent.objects.filter(action="person.create").count() == 4
