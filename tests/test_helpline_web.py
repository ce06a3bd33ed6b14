"""The advisor's pages: triage queue with alerts, the contact page (lookup, case, tasks, knowledge
base beside it), notifications, the dashboard and its CSV export, and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from tessera.audit.models import AuditEvent
from tessera.cases import services as case_services
from tessera.cases.models import CaseParty, Sensitivity
from tessera.helpline import services
from tessera.helpline.models import Contact, Task
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .conftest import World
from .helpline_helpers import contact_from, member


def test_triage_queue_lists_reports_and_alerts_on_urgent_waits(world: World) -> None:
    report = services.submit_public_report(
        org=world.a, data={"summary": "x", "urgency": "emergency"}
    )
    with org_context(world.a):
        Contact.objects.filter(pk=report.pk).update(
            started_at=timezone.now() - timedelta(minutes=30)
        )
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    page = client.get("/helpline/").content.decode()
    assert f"/helpline/contacts/{report.pk}/" in page
    assert "urgent contact waiting longer than 10 minutes" in page
    badge = client.get("/helpline/alerts/badge/").content.decode()
    assert 'id="alert-badge">1<' in badge
    client.post(f"/helpline/contacts/{report.pk}/take/")
    assert "waiting longer" not in client.get("/helpline/").content.decode()


def test_contact_page_shows_lookup_links_a_case_and_completes_a_task(world: World) -> None:
    earlier = contact_from(world, world.a, "+447700900808", safety_flags=["no_voicemail"])
    now = contact_from(world, world.a, "07700900808")
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    page = client.get(f"/helpline/contacts/{now.pk}/").content.decode()
    assert "1 earlier contact from this number" in page and "no_voicemail" in page
    assert f"/helpline/contacts/{earlier.pk}/" in page
    assert 'id="kb-q"' in page
    client.post(f"/helpline/contacts/{now.pk}/case/")
    client.post(
        f"/helpline/contacts/{now.pk}/tasks/", {"title": "Safe call back", "priority": "high"}
    )
    with org_context(world.a):
        now.refresh_from_db()
        assert now.case is not None
        task = Task.objects.get()
        assert task.case_id == now.case_id
    client.post(f"/helpline/tasks/{task.pk}/complete/", {"next": f"/helpline/contacts/{now.pk}/"})
    with org_context(world.a):
        task.refresh_from_db()
        assert task.status == "done"
    saved = client.post(
        f"/helpline/contacts/{now.pk}/",
        {
            "channel": "phone",
            "caller_type": "public",
            "outcome": "referred_ngo",
            "flags_present": "1",
            "safety_flags": ["text_only"],
            "triage_status": "done",
        },
    )
    assert saved.status_code == 302
    with org_context(world.a):
        now.refresh_from_db()
        assert now.outcome == "referred_ngo" and now.safety_flags == ["text_only"]


def test_new_contact_form_records_a_contact(world: World) -> None:
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    assert client.get("/helpline/contacts/new/").status_code == 200
    bad = client.post("/helpline/contacts/new/", {"channel": "pigeon"})
    assert bad.status_code == 400
    good = client.post(
        "/helpline/contacts/new/",
        {
            "channel": "sms",
            "caller_type": "potential_victim",
            "summary": "text",
            "is_exploitation": "yes",
        },
    )
    assert good.status_code == 302
    with org_context(world.a):
        assert Contact.objects.get().is_exploitation is True


def test_knowledge_base_htmx_search_and_safe_article_page(world: World) -> None:
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        article = services.save_article(
            actor=supervisor, title="Debt bondage", body="Ask about **debts**.<script>x</script>"
        )
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    fragment = client.get("/helpline/knowledge/?q=debt", HTTP_HX_REQUEST="true").content.decode()
    assert "Debt bondage" in fragment and "<html" not in fragment
    page = client.get(f"/helpline/knowledge/{article.pk}/").content.decode()
    assert "<strong>debts</strong>" in page and "<script>x</script>" not in page
    assert client.get("/helpline/knowledge/new/").status_code == 403


def test_dashboard_counts_and_csv_export(world: World) -> None:
    contact_from(world, world.a, "+447700900901", caller_type="business")
    linked = contact_from(world, world.a, "+447700900902", outcome="referred_police")
    with org_context(world.a):
        services.link_contact_to_case(actor=member(world, world.a, Role.SUPERVISOR), contact=linked)
    services.submit_public_report(org=world.b, data={"summary": "other org"})
    client = world.client_for(world.a, Role.ANALYST)
    page = client.get("/helpline/dashboard/").content.decode()
    assert 'id="figure-total">2<' in page and 'id="figure-converted">1 (50.0 %)' in page
    assert "helpline-chart-data" in page and "chart-4.6.1.umd.min.js" in page
    export = client.get("/helpline/dashboard.csv")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    values = {row[0]: row[3] for row in rows[1:] if row[0].startswith("contacts_")}
    assert values["contacts_total"] == "2" and values["contacts_converted_to_cases"] == "1"
    assert ["outcome", rows[-1][1], "referred_police", "1"] in rows
    future = client.get("/helpline/dashboard/?start=2001-01-01&end=2001-01-31").content.decode()
    assert 'id="figure-total">0<' in future


def test_roles_without_helpline_permissions_are_refused(world: World) -> None:
    analyst = world.client_for(world.a, Role.ANALYST)
    assert analyst.get("/helpline/").status_code == 403
    advisor = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    assert advisor.get("/helpline/dashboard/").status_code == 403
    other = contact_from(world, world.a, "+447700900903")
    outsider = world.client_for(world.b, Role.HELPLINE_ADVISOR)
    assert outsider.get(f"/helpline/contacts/{other.pk}/").status_code == 404


# --- Linking people to a contact (the same service and access rules as the API's) ---------------


def _person_in_case(world: World, org_name: str = "a", **case_data: object) -> CaseParty:
    org = world.a if org_name == "a" else world.b
    supervisor = member(world, org, Role.SUPERVISOR)
    with org_context(org):
        case = case_services.open_case(actor=supervisor, data=dict(case_data))
        return case_services.add_party(
            actor=supervisor,
            case=case,
            role="PotentialVictim",
            person_data={"prs_FirstName": "Mariam", "prs_SecondName": "Okafor"},
        )


def test_an_advisor_finds_a_person_and_links_them_without_javascript(world: World) -> None:
    party = _person_in_case(world)
    contact = contact_from(world, world.a, "+447700900515")
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    page = client.get(f"/helpline/contacts/{contact.pk}/").content.decode()
    assert "No people are linked to this contact." in page
    assert 'hx-get="/helpline/contacts/' in page  # HTMX enhances the same GET form
    found = client.get(f"/helpline/contacts/{contact.pk}/?person_q=Mariam+Okafor").content.decode()
    assert "Mariam Okafor" in found and f'value="{party.person_id}"' in found
    linked = client.post(
        f"/helpline/contacts/{contact.pk}/people/",
        {"person_id": str(party.person_id), "role": "caller"},
    )
    assert linked.status_code == 302 and linked["Location"].endswith("#people-heading")
    page = client.get(linked["Location"]).content.decode()
    assert "Person linked to the contact." in page
    assert f"/cases/people/{party.person_id}/" in page and "· caller" in page
    again = client.get(f"/helpline/contacts/{contact.pk}/?person_q=Mariam+Okafor").content.decode()
    assert f'value="{party.person_id}"' not in again, "someone already linked is not offered"
    with org_context(world.a):
        assert [p.person_id for p in contact.people.all()] == [party.person_id]
        actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "contact.link_person" in actions and "person.identity_read" in actions


def test_the_htmx_search_returns_only_the_results(world: World) -> None:
    party = _person_in_case(world)
    contact = contact_from(world, world.a, "+447700900516")
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    fragment = client.get(
        f"/helpline/contacts/{contact.pk}/people/?person_q=Okafor", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and f'value="{party.person_id}"' in fragment
    assert 'name="csrfmiddlewaretoken"' in fragment
    nobody = client.get(f"/helpline/contacts/{contact.pk}/people/?person_q=Nobody").content
    assert "No one you may see matches" in nobody.decode()


def test_linking_twice_says_so_and_changes_nothing(world: World) -> None:
    party = _person_in_case(world)
    contact = contact_from(world, world.a, "+447700900517")
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    path = f"/helpline/contacts/{contact.pk}/people/"
    client.post(path, {"person_id": str(party.person_id)})
    response = client.post(path, {"person_id": str(party.person_id)}, follow=True)
    assert "This person is already linked to the contact." in response.content.decode()
    with org_context(world.a):
        assert contact.people.count() == 1


@pytest.mark.parametrize(
    "case_data", [{"sensitivity": Sensitivity.HIGHLY_RESTRICTED}, {"org": "b"}]
)
def test_people_the_advisor_may_not_see_cannot_be_found_or_linked(
    world: World, case_data: dict[str, object]
) -> None:
    org_name = str(case_data.pop("org", "a"))
    party = _person_in_case(world, org_name, **case_data)
    contact = contact_from(world, world.a, "+447700900518")
    client = world.client_for(world.a, Role.HELPLINE_ADVISOR)
    found = client.get(f"/helpline/contacts/{contact.pk}/?person_q=Mariam+Okafor").content.decode()
    assert "No one you may see matches" in found and str(party.person_id) not in found
    for person_id in (str(party.person_id), "not-a-uuid", ""):
        response = client.post(f"/helpline/contacts/{contact.pk}/people/", {"person_id": person_id})
        assert response.status_code == 404, person_id
    with org_context(world.a):
        assert contact.people.count() == 0


def test_a_person_linked_from_a_case_one_cannot_see_is_counted_not_named(world: World) -> None:
    party = _person_in_case(world, sensitivity=Sensitivity.HIGHLY_RESTRICTED)
    contact = contact_from(world, world.a, "+447700900519")
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        services.link_person(actor=supervisor, contact=contact, person=party.person, role="caller")
    owner = world.client_for(world.a, Role.SUPERVISOR).get(f"/helpline/contacts/{contact.pk}/")
    assert "Mariam Okafor" in owner.content.decode()
    page = world.client_for(world.a, Role.HELPLINE_ADVISOR).get(f"/helpline/contacts/{contact.pk}/")
    html = page.content.decode()
    assert "Mariam" not in html and str(party.person_id) not in html
    assert "and 1 person in cases you cannot see" in html
