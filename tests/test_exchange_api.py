"""The import and export API: upload, dry run, report, commit, export with purpose."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tessera.audit.models import AuditEvent
from tessera.cases.models import Case
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .conftest import World

CSV = b"case_ref,prs_FirstName,prs_Gender\r\n1,Ana,Feminine\r\n2,Bea,Masculine\r\n"


def _upload(client, data: bytes, **extra: str):
    return client.post("/api/v1/imports", {"file": SimpleUploadedFile("people.csv", data), **extra})


def test_a_dry_run_reports_and_a_commit_imports(world: World) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    job = _upload(client, CSV, dry_run="true").json()
    assert job["status"] == "validated" and job["total"] == 2
    with org_context(world.a):
        assert Case.objects.count() == 0
    done = client.post(f"/api/v1/imports/{job['id']}/commit").json()
    polled = client.get(f"/api/v1/imports/{job['id']}").json()
    assert done["id"] == polled["id"] and polled["status"] == "done"
    assert polled["created_cases"] == 2 and polled["percent"] == 100
    with org_context(world.a):
        assert Case.objects.count() == 2
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "exchange.import_upload",
        "exchange.import_validate",
        "exchange.import_batch",
    } <= actions


def test_the_report_downloads_as_csv(world: World) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    job = _upload(client, CSV.replace(b"Masculine", b"Purple")).json()
    assert job["status"] == "invalid"
    report = client.get(f"/api/v1/imports/{job['id']}/report.csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,column,field,level,message"
    assert lines[1].startswith("3,prs_Gender,prs_Gender,error,")


def test_roles_without_the_import_permission_cannot_import(world: World) -> None:
    for role in (Role.CASEWORKER, Role.ANALYST, Role.AUDITOR):
        assert _upload(world.client_for(world.a, role), CSV).status_code == 403


def test_identifying_exports_need_the_permission_and_a_purpose(world: World) -> None:
    supervisor = world.client_for(world.a, Role.SUPERVISOR)
    caseworker = world.client_for(world.a, Role.CASEWORKER)
    body = {"format": "csv", "identifying": True}
    url = "/api/v1/exports"
    assert caseworker.post(url, body, content_type="application/json").status_code == 403
    assert supervisor.post(url, body, content_type="application/json").status_code == 403
    ok = supervisor.post(
        url, {**body, "purpose": "move to new server"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.content.startswith(b"\xef\xbb\xbf")
    plain = caseworker.post(url, {"format": "json"}, content_type="application/json")
    assert plain.status_code == 200
    with org_context(world.a):
        reasons = list(
            AuditEvent.objects.filter(action="exchange.export_identifying").values_list(
                "reason", flat=True
            )
        )
    assert any("move to new server" in r for r in reasons)
