"""The bulk import path: rows built without model instances, staged by the dry run, written with
COPY (PostgreSQL) or executemany (SQLite), optionally built in worker processes. It must leave
exactly what the case services leave, and keep every wall: sealing, tenancy, audit, resumability."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.accounts.models import User
from tessera.audit.verify import verify_all
from tessera.cases.documents import import_case_document
from tessera.cases.models import Case, CaseNote, CaseParty, Person
from tessera.consent.models import Consent
from tessera.exchange import parallel, services
from tessera.exchange.models import ImportJob, ImportStatus, StagedBatch
from tessera.exchange.row_writer import insert_rows
from tessera.tenancy.context import CrossOrgWriteError, org_context
from tessera.tenancy.models import Membership
from tessera.vault.fields import BlindIndexField, EncryptedField, index_for
from tessera.vault.models import SubjectKey

from .conftest import ON_POSTGRES, World, make_member
from .exchange_helpers import comparable, do_export, do_import, fresh_org, officer_in
from .test_exchange_roundtrip import documents

# Everything a flat file can carry, including what the services turn into notes and statuses.
HEADER = (
    "case_ref,role,prs_FirstName,prs_SecondName,prs_Birthdate,prs_Gender,prs_Citizenship,"
    "prs_MobilePhone,prs_HomePhone,prs_IdentityNumber,prs_Email,prs_MailingStreet,"
    "prs_MailingCity,prs_MailingPostalCode,prs_MailingCountry,prs_MailingLatitude,"
    "prs_MailingLongitude,prs_NumberOfChildren,prs_Deceased,vic_TraffickingStatus,"
    "vic_TypeOfExploitation,vic_MethodsOfControl,vic_AgeWhenTrafficked,per_RoleInProcess,"
    "cas_Status,cas_CaseOwner,cas_ReasonForCaseClosure,cas_ReferringOrganisation,"
    "cas_IncomingReferralDate,cas_ReferredOrganisation,opened_on,sensitivity,team,con_Consent,"
    "consent_statistics"
)
ROWS = [
    "A,Victim,Amara,Okafor,1999-04-02,Feminine,NG;GB,+44 7700 900123,,AB 123 456,a@x.test,"
    "1 High St,Leeds,LS1 1AA,GB,53.8,-1.55,2,FALSE,ActualVictimOfTrafficking,"
    "ForcedLabour;SexualExploitation,DebtBondage,17,,Active,officer@network.test,,Police,"
    "2024-03-01,Harbour House,2024-02-01,restricted,north,TRUE,FALSE",
    "A,Perpetrator,Karl,,,Masculine,,,020 7946 0000,,,,,,,,,,,,,,,RecruiterOrIntermediary;Transporter,,,,,,,,,,,",
    "B,PotentialVictim,Lin,Chen,1990-05-17,Feminine,TH,+66 81 234 5678,,,,,Bangkok,,TH,,,,,"
    "PossibleVictimOfTrafficking,ForcedLabour,,,,Closed,Somchai (former staff),Returned home,"
    ",,,,,,FALSE,TRUE",
    "C,Witness,Mai,,,,,,,,,,,,,,,,TRUE,,,,,,FollowUp,,,,,,,highly_restricted,,,",
]


def _csv(rows: list[str] = ROWS) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


def _columns(model: type[Model], row: Model, skip: set[str]) -> dict[str, Any]:
    """A row's stored content, organisation-independent: sealed fields opened, blind indexes
    checked against their source here (each organisation has its own index key)."""
    out: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.name in skip:
            continue
        if isinstance(field, BlindIndexField):
            source = getattr(row, field.source)
            expected = index_for(field.kind, source) if source not in (None, "") else ""
            out[field.name] = getattr(row, field.attname) == expected
        elif isinstance(field, EncryptedField):
            out[field.name] = getattr(row, field.name)
        else:
            out[field.name] = getattr(row, field.attname)
    return out


def _stored(org: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row an import wrote in `org`, in a comparable form."""
    common = {"id", "org", "created_at", "updated_at"}
    with org_context(org):
        cases = list(Case.objects.order_by("reference"))
        position = {case.pk: n for n, case in enumerate(cases)}
        parties = sorted(
            CaseParty.objects.select_related("person"),
            key=lambda p: (position[p.case_id], p.created_at),
        )
        people = {party.person_id: n for n, party in enumerate(parties)}
        out = {
            "cases": [_columns(Case, c, common) for c in cases],
            "people": [_columns(Person, p.person, common) for p in parties],
            "parties": [
                {
                    **_columns(CaseParty, p, common | {"case", "person"}),
                    "at": (position[p.case_id], people[p.person_id]),
                }
                for p in parties
            ],
            "consents": sorted(
                (position[c.case_id], people[c.person_id], c.purpose, c.is_given)
                for c in Consent.objects.all()
            ),
            "notes": sorted(
                (position[n.case_id], n.kind, n.body, n.author_id) for n in CaseNote.objects.all()
            ),
        }
        subjects = set(SubjectKey.objects.values_list("subject_id", flat=True))
        written = {p.person_id for p in parties} | set(
            CaseNote.objects.values_list("pk", flat=True)
        )
        assert written <= subjects, "every bulk-written person and note has its own key"
    return out


def _import_both_ways(
    world: World, monkeypatch: pytest.MonkeyPatch, data: bytes, name: str = "a.csv"
) -> tuple[Membership, Membership]:
    fast, slow = officer_in(fresh_org("fast"), fresh_org("slow"))
    fast_job = do_import(fast, data, name)
    with monkeypatch.context() as patched:
        patched.setattr(services, "_uses_bulk", lambda job, units: False)
        slow_job = do_import(slow, data, name)
    assert fast_job.status == slow_job.status == ImportStatus.DONE, fast_job.report
    assert fast_job.report == slow_job.report
    return fast, slow


def test_bulk_rows_equal_the_case_services_rows_column_by_column(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _import_both_ways(world, monkeypatch, _csv())
    stored = _stored(fast.org)
    assert stored == _stored(slow.org)
    assert len(stored["cases"]) == 3 and len(stored["people"]) == 4
    # What the data exercises: a closed case, owners found and not found, Tessera's own columns.
    statuses = sorted(c["status"] for c in stored["cases"])
    assert statuses == ["Active", "Closed", "FollowUp"]
    assert any("Somchai" in body for _case, _kind, body, _author in stored["notes"])
    assert any("Harbour House" in body for _case, _kind, body, _author in stored["notes"])
    assert {c["sensitivity"] for c in stored["cases"]} == {
        "restricted",
        "standard",
        "highly_restricted",
    }
    assert stored["people"][0]["mailing_latitude"] == "53.800000"


@pytest.mark.django_db
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases=st.lists(documents(), min_size=1, max_size=4))
def test_random_cases_leave_the_same_rows_by_both_paths(
    monkeypatch: pytest.MonkeyPatch, cases: list[dict[str, Any]]
) -> None:
    suffix = os.urandom(4).hex()
    source, fast, slow = officer_in(
        fresh_org(f"src{suffix}"), fresh_org(f"fast{suffix}"), fresh_org(f"slow{suffix}")
    )
    with org_context(source.org):
        for document in cases:
            import_case_document(actor=source, document=document)
    data = do_export(source, "csv")
    assert do_import(fast, data, "a.csv").status == ImportStatus.DONE
    with monkeypatch.context() as patched:
        patched.setattr(services, "_uses_bulk", lambda job, units: False)
        assert do_import(slow, data, "a.csv").status == ImportStatus.DONE
    assert _stored(fast.org) == _stored(slow.org)


def test_a_dry_run_stages_sealed_rows_and_writes_no_case(world: World) -> None:
    (actor,) = officer_in(world.a)
    job = do_import(actor, _csv(), "a.csv", dry_run=True)
    assert job.status == ImportStatus.VALIDATED
    with org_context(world.a):
        assert not Case.objects.exists() and not Person.objects.exists()
        assert SubjectKey.objects.count() == 1  # the job's own key (it seals the upload)
        staged = StagedBatch.objects.get(job=job)
        assert staged.unit_count == 3
        raw = bytes(staged.__dict__["payload"])
        assert b"Amara" not in raw and b"Okafor" not in raw and b"900123" not in raw


def test_the_commit_writes_the_staged_rows_without_reading_the_file_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = officer_in(world.a, fresh_org("staged"))
    job = do_import(source, _csv(), "a.csv", dry_run=True)

    def no_second_reading(job: ImportJob) -> list[Any]:
        raise AssertionError("the commit read the file again")

    monkeypatch.setattr(services, "_units", no_second_reading)
    with org_context(world.a):
        job = ImportJob.objects.get(pk=job.pk)
    job = services.commit_import(actor=source, job=job)
    assert job.status == ImportStatus.DONE and job.created_cases == 3
    monkeypatch.undo()
    do_import(target, _csv(), "a.csv")
    assert comparable(do_export(source, "csv"), "csv") == comparable(
        do_export(target, "csv"), "csv"
    )
    with org_context(world.a):
        assert not StagedBatch.objects.exists()
        assert not SubjectKey.objects.filter(subject_id=job.pk).exists()


def test_staged_rows_are_rebuilt_from_the_file_when_the_members_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (actor,) = officer_in(world.a)
    rows = [ROWS[2].replace("Somchai (former staff)", "new.owner@network.test")]
    job = do_import(actor, _csv(rows), "a.csv", dry_run=True)
    make_member(world.a, "caseworker", "new.owner@network.test")
    reads = []
    real = services._units
    monkeypatch.setattr(services, "_units", lambda job: reads.append(job) or real(job))
    with org_context(world.a):
        job = ImportJob.objects.get(pk=job.pk)
    job = services.commit_import(actor=actor, job=job)
    assert job.status == ImportStatus.DONE and reads
    with org_context(world.a):
        case = Case.objects.get()
        assert case.owner is not None and case.owner.email == "new.owner@network.test"
        assert not case.notes.exists()


def test_an_invalid_file_stages_nothing(world: World) -> None:
    (actor,) = officer_in(world.a)
    job = do_import(
        actor, _csv([*ROWS, "D,Victim,Zed,,not-a-date,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"]), "a.csv"
    )
    assert job.status == ImportStatus.INVALID
    assert any(p["column"] == "prs_Birthdate" for p in job.report)
    with org_context(world.a):
        assert not StagedBatch.objects.exists()
        assert not Case.objects.exists()


def test_the_audit_chain_stays_valid_and_names_each_batch(world: World) -> None:
    (actor,) = officer_in(world.a)
    do_import(actor, _csv(), "a.csv")
    (report,) = verify_all(world.a)
    assert report.ok, report.problem
    from tessera.audit.models import AuditEvent

    with org_context(world.a):
        batch = AuditEvent.objects.get(action="exchange.import_batch_bulk")
        assert "(3), 4 people, 4 consents" in batch.reason


def test_erasing_a_bulk_imported_person_shreds_their_values(world: World) -> None:
    from tessera.vault.keys import SubjectErasedError, clear_key_caches, shred_subject

    (actor,) = officer_in(world.a)
    do_import(actor, _csv(), "a.csv")
    with org_context(world.a):
        clear_key_caches()
        amara = Person.objects.get(first_name_index=index_for("name", "Amara"))
        assert amara.mobile_phone == "+44 7700 900123"
        assert shred_subject(amara.pk)
        with pytest.raises(SubjectErasedError):
            _ = Person.objects.get(pk=amara.pk).first_name


def test_workers_build_the_same_rows_as_one_process(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, many = officer_in(fresh_org("one"), fresh_org("many"))
    monkeypatch.setattr(services, "BATCH_SIZE", 1)
    monkeypatch.setattr(parallel, "worker_count", lambda: 1)
    do_import(one, _csv(), "a.csv")
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    forked = []
    real = parallel.in_order
    monkeypatch.setattr(
        parallel,
        "in_order",
        lambda task, count, workers: forked.append(workers) or real(task, count, workers),
    )
    job = do_import(many, _csv(), "a.csv")
    assert forked == [2] and job.status == ImportStatus.DONE
    assert _stored(one.org) == _stored(many.org)


def test_work_handed_to_workers_runs_in_other_processes_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "can_fork", lambda: True)  # pytest-xdist runs a thread
    results = list(parallel.in_order(lambda index: (index, os.getpid()), 5, 2))
    assert [index for index, _pid in results] == [0, 1, 2, 3, 4]
    assert os.getpid() not in {pid for _index, pid in results}


def test_a_multi_threaded_process_builds_in_its_own_process() -> None:
    import threading

    started = threading.Event()
    stop = threading.Event()
    other = threading.Thread(target=lambda: (started.set(), stop.wait()))
    other.start()
    started.wait()
    try:
        assert not parallel.can_fork()
        results = list(parallel.in_order(lambda index: os.getpid(), 3, 2))
        assert results == [os.getpid()] * 3
    finally:
        stop.set()
        other.join()


@pytest.mark.django_db
def test_a_worker_cannot_use_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "can_fork", lambda: True)
    with pytest.raises(RuntimeError, match="do not use the database"):
        list(parallel.in_order(lambda index: User.objects.count(), 2, 2))
    assert User.objects.count() >= 0  # the parent's connection is unharmed


def _minimal_rows() -> dict[type[Model], dict[str, Any]]:
    """For every table the bulk path writes, a row with what its columns require (the foreign
    keys name rows that do not exist: they are checked only at commit, which tests never reach)."""
    from tessera.exchange.models import ImportedRecord

    def new_id() -> str:
        return os.urandom(16).hex()

    return {
        Case: {"id": new_id(), "reference": "2026-999999", "opened_on": "2026-01-01"},
        Person: {"id": new_id()},
        SubjectKey: {"subject_id": new_id(), "wrapped_key": b"\x01" * 40},
        CaseParty: {"id": new_id(), "case_id": new_id(), "person_id": new_id(), "role": "Other"},
        Consent: {
            "id": new_id(),
            "person_id": new_id(),
            "case_id": new_id(),
            "purpose": "care",
            "is_given": True,
        },
        CaseNote: {"id": new_id(), "case_id": new_id(), "kind": "note"},
        ImportedRecord: {"source_key": new_id(), "case_id": new_id()},
    }


BULK_MODELS = [Case, Person, SubjectKey, CaseParty, Consent, CaseNote, "ImportedRecord"]


def _model(name_or_model: Any) -> type[Model]:
    from tessera.exchange.models import ImportedRecord

    return ImportedRecord if name_or_model == "ImportedRecord" else name_or_model


@pytest.mark.parametrize("model", BULK_MODELS, ids=lambda m: getattr(m, "__name__", str(m)))
def test_rows_of_another_organisation_are_refused_and_nothing_is_written(
    world: World, model: Any
) -> None:
    from django.utils import timezone

    model = _model(model)
    row = {**_minimal_rows()[model], "org_id": world.b.pk}
    with org_context(world.a):
        with pytest.raises(CrossOrgWriteError):
            insert_rows(model, [row], now=timezone.now(), stamped=["recorded_at", "occurred_at"])
        assert not model.objects.exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES")
@pytest.mark.parametrize("model", BULK_MODELS, ids=lambda m: getattr(m, "__name__", str(m)))
def test_the_database_applies_row_level_security_to_copied_rows(world: World, model: Any) -> None:
    from django.db import DatabaseError, transaction
    from django.utils import timezone

    from tessera.tenancy.context import ORG_SETTING

    model = _model(model)
    with org_context(world.a):
        # As it is, the row goes in: the refusal below is the policy's, not a bad row's.
        with transaction.atomic():
            insert_rows(
                model,
                [_minimal_rows()[model]],
                now=timezone.now(),
                stamped=["recorded_at", "occurred_at"],
            )
            transaction.set_rollback(True)
        with connection.cursor() as cursor:
            # The application believes it acts for A, the database for B: the database refuses.
            cursor.execute("SELECT set_config(%s, %s, true)", [ORG_SETTING, str(world.b.pk)])
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            insert_rows(
                model,
                [_minimal_rows()[model]],
                now=timezone.now(),
                stamped=["recorded_at", "occurred_at"],
            )
