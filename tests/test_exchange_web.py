"""Import and export pages: upload, report, HTMX progress, commit, export with purpose."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tessera.cases.models import Case
from tessera.exchange.models import ImportJob
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .conftest import World

CSV = b"case_ref,prs_FirstName,prs_Gender\r\n1,Ana,Feminine\r\n2,Bea,Purple\r\n"


def test_upload_shows_the_report_and_nothing_is_imported(world: World) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    response = client.post(
        reverse("exchange:import_list"), {"file": SimpleUploadedFile("a.csv", CSV)}, follow=True
    )
    page = response.content.decode()
    assert "&#x27;Purple&#x27; is not a value of prs_Gender" in page
    assert "Download the report (CSV)" in page
    with org_context(world.a):
        job = ImportJob.objects.get()
        assert Case.objects.count() == 0
    fragment = client.get(
        reverse("exchange:import_detail", args=[job.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.startswith('<div id="import-progress"') and "<progress" in fragment


def test_a_valid_upload_is_committed_after_confirmation(world: World) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    client.post(
        reverse("exchange:import_list"),
        {"file": SimpleUploadedFile("a.csv", CSV.replace(b"Purple", b"Masculine"))},
    )
    with org_context(world.a):
        job = ImportJob.objects.get()
        assert Case.objects.count() == 0
    page = client.post(reverse("exchange:import_commit", args=[job.pk]), follow=True)
    assert 'value="100"' in page.content.decode()
    with org_context(world.a):
        assert Case.objects.count() == 2


def test_import_pages_need_the_import_permission(world: World) -> None:
    for role in (Role.CASEWORKER, Role.ANALYST, Role.AUDITOR):
        assert (
            world.client_for(world.a, role).get(reverse("exchange:import_list")).status_code == 403
        )


def test_an_identifying_export_without_purpose_is_refused(world: World) -> None:
    client = world.client_for(world.a, Role.SUPERVISOR)
    url = reverse("exchange:export")
    refused = client.post(url, {"format": "csv", "identifying": "on"})
    assert refused.status_code == 400
    done = client.post(url, {"format": "csv", "identifying": "on", "purpose": "migration"})
    assert done.status_code == 200 and done["Content-Type"].startswith("text/csv")


def test_another_organisations_import_job_is_404_on_every_page(world: World) -> None:
    from .factories import make_import_job

    job_id = make_import_job(world.a)
    client = world.client_for(world.b, Role.ORG_ADMIN)
    for name in ("import_detail", "import_report"):
        assert client.get(reverse(f"exchange:{name}", args=[job_id])).status_code == 404
    assert client.post(reverse("exchange:import_commit", args=[job_id])).status_code == 404
