"""Helpline services and selectors: sealed caller numbers, triage, linking to cases, tasks,
alerts computed on read, and the knowledge base's safe Markdown and org-filtered search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tessera.audit.models import AuditEvent
from tessera.cases import services as case_services
from tessera.cases.models import Case, CaseStatus, Sensitivity
from tessera.cases.services.common import CaseRuleError
from tessera.helpline import selectors, services
from tessera.helpline.markdown import render_markdown
from tessera.helpline.models import Contact, Notification, TaskStatus, TriageStatus
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .conftest import World
from .helpline_helpers import contact_from, member


def test_caller_phone_is_sealed_and_found_by_blind_index(world: World) -> None:
    contact = contact_from(world, world.a, "07700 900123", summary="Worried about car wash")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM helpline_contact")
        raw = repr(cursor.fetchall())
    assert "7700900123" not in raw and "car wash" not in raw
    with org_context(world.a):
        stored = Contact.objects.get(pk=contact.pk)
        assert stored.caller_phone == "+447700900123"
        actor = member(world, world.a, Role.HELPLINE_ADVISOR)
        found = selectors.lookup_caller(actor=actor, phone="+44 7700 900123")
    assert found is not None and [c.pk for c in found.contacts] == [contact.pk]
    assert found.phone == "+447700900123"


def test_invalid_values_are_refused_field_by_field(world: World) -> None:
    actor = member(world, world.a, Role.HELPLINE_ADVISOR)
    with org_context(world.a), pytest.raises(CaseRuleError) as caught:
        services.record_contact(
            actor=actor,
            data={"channel": "pigeon", "caller_phone": "not a number", "safety_flags": ["x"]},
        )
    assert set(caught.value.errors) == {"channel", "caller_phone", "safety_flags"}


def test_lookup_hides_contacts_of_cases_the_actor_cannot_see(world: World) -> None:
    supervisor = member(world, world.a, Role.SUPERVISOR)
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    open_one = contact_from(world, world.a, "+447700900555", safety_flags=["do_not_call_back"])
    hidden = contact_from(world, world.a, "+447700900555", safety_flags=["perpetrator_may_answer"])
    with org_context(world.a):
        visible_case = services.link_contact_to_case(actor=supervisor, contact=open_one)
        secret = case_services.open_case(
            actor=supervisor, data={"sensitivity": Sensitivity.HIGHLY_RESTRICTED}
        )
        services.link_contact_to_case(actor=supervisor, contact=hidden, case=secret)
        result = selectors.lookup_caller(actor=advisor, phone="07700900555")
    assert result is not None
    assert [c.pk for c in result.contacts] == [open_one.pk]
    assert [c.pk for c in result.cases] == [visible_case.pk]
    assert result.safety_flags == ["do_not_call_back"]
    assert result.hidden_contacts == 1


def test_lookup_lists_the_newest_visible_contacts_up_to_its_limit(world: World) -> None:
    """A frequent caller: of the newest contacts read, the hidden ones are counted, not listed, and
    the listed ones (at most LOOKUP_LIMIT, newest first) carry their case and safety flags."""
    supervisor = member(world, world.a, Role.SUPERVISOR)
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    phone = "+447700900556"
    start = timezone.now() - timedelta(days=30)
    made = [
        contact_from(
            world,
            world.a,
            phone,
            started_at=(start + timedelta(hours=i)).isoformat(),
            safety_flags=["do_not_call_back"] if i == 20 else [],
        )
        for i in range(selectors.LOOKUP_LIMIT + 5)
    ]
    newest_first = made[::-1]
    with org_context(world.a):
        secret = case_services.open_case(
            actor=supervisor, data={"sensitivity": Sensitivity.HIGHLY_RESTRICTED}
        )
        visible_case = services.link_contact_to_case(actor=supervisor, contact=newest_first[2])
        for contact in (newest_first[0], newest_first[3]):
            services.link_contact_to_case(actor=supervisor, contact=contact, case=secret)
        result = selectors.lookup_caller(actor=advisor, phone=phone)
    assert result is not None
    expected = [c.pk for c in newest_first if c.pk not in {newest_first[0].pk, newest_first[3].pk}]
    assert [c.pk for c in result.contacts] == expected[: selectors.LOOKUP_LIMIT]
    assert result.hidden_contacts == 2
    listed = {c.pk: c for c in result.contacts}
    assert listed[newest_first[2].pk].case.reference == visible_case.reference
    assert listed[made[20].pk].safety_flags == ["do_not_call_back"]
    assert result.safety_flags == ["do_not_call_back"]
    assert all(c.started_at is not None for c in result.contacts)


def _case_with_caller(world: World, **case_data: object) -> Case:
    """A case whose potential victim has the mobile number 07700 900666 (no contact names it)."""
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a):
        case = case_services.open_case(actor=supervisor, data=dict(case_data))
        case_services.add_party(
            actor=supervisor,
            case=case,
            role="PotentialVictim",
            person_data={"prs_FirstName": "Lin", "prs_MobilePhone": "+44 7700 900666"},
        )
    return case


@pytest.mark.parametrize(
    ("case_data", "listed"),
    [
        ({}, True),
        ({"sensitivity": Sensitivity.RESTRICTED, "team": "elsewhere"}, False),
        ({"sensitivity": Sensitivity.HIGHLY_RESTRICTED}, False),
        ({"closed": True}, False),
    ],
)
def test_lookup_lists_open_cases_of_people_with_the_number_that_the_actor_may_see(
    world: World, case_data: dict[str, object], listed: bool
) -> None:
    closed = bool(case_data.pop("closed", False))
    case = _case_with_caller(world, **case_data)
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    with org_context(world.a):
        if closed:
            Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
        result = selectors.lookup_caller(actor=advisor, phone="07700900666")
    assert result is not None and result.contacts == []
    assert [c.pk for c in result.cases] == ([case.pk] if listed else [])


@pytest.mark.parametrize(
    ("case_data", "listed"),
    [
        ({}, True),
        ({"sensitivity": Sensitivity.RESTRICTED, "team": "elsewhere"}, False),
        ({"sensitivity": Sensitivity.HIGHLY_RESTRICTED}, False),
    ],
)
def test_lookup_lists_cases_of_contacts_and_of_people_together(
    world: World, case_data: dict[str, object], listed: bool
) -> None:
    # A contact names a case, so the people's cases are read in the same statement (its second
    # arm): that arm must keep the access rules too.
    by_person = _case_with_caller(world, **case_data)
    supervisor = member(world, world.a, Role.SUPERVISOR)
    contact = contact_from(world, world.a, "+447700900666")
    with org_context(world.a):
        by_contact = services.link_contact_to_case(actor=supervisor, contact=contact)
        result = selectors.lookup_caller(
            actor=member(world, world.a, Role.HELPLINE_ADVISOR), phone="+447700900666"
        )
    assert result is not None and [c.pk for c in result.contacts] == [contact.pk]
    assert result.contacts[0].case.reference == by_contact.reference
    expected = {by_person.pk, by_contact.pk} if listed else {by_contact.pk}
    assert {c.pk for c in result.cases} == expected
    with org_context(world.b):
        other = selectors.lookup_caller(
            actor=member(world, world.b, Role.HELPLINE_ADVISOR), phone="+447700900666"
        )
    assert other is not None and (other.contacts, other.cases) == ([], [])


def test_lookup_lists_a_case_named_by_a_contact_and_a_person_once(world: World) -> None:
    case = _case_with_caller(world)
    supervisor = member(world, world.a, Role.SUPERVISOR)
    contact = contact_from(world, world.a, "+447700900666")
    with org_context(world.a):
        services.link_contact_to_case(actor=supervisor, contact=contact, case=case)
        result = selectors.lookup_caller(
            actor=member(world, world.a, Role.HELPLINE_ADVISOR), phone="+447700900666"
        )
    assert result is not None and [c.pk for c in result.cases] == [case.pk]
    assert result.contacts[0].case.reference == case.reference


def test_public_report_enters_the_triage_queue_and_is_audited_as_public(world: World) -> None:
    contact = services.submit_public_report(
        org=world.a,
        data={"summary": "Workers sleep at the farm", "caller_phone": "07700900777"},
        ip="203.0.113.9",
    )
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    with org_context(world.a):
        queue = list(selectors.triage_queue(actor=advisor))
        event = AuditEvent.objects.get(action="contact.public_report")
    assert [c.pk for c in queue] == [contact.pk]
    assert queue[0].channel == "web_form" and queue[0].triage_status == TriageStatus.NEW
    assert event.actor_id is None and event.actor_label == "public:public_form"
    with org_context(world.b):
        assert not Contact.objects.filter(pk=contact.pk).exists()


def test_anonymous_reports_keep_no_contact_details(world: World) -> None:
    contact = services.submit_public_report(
        org=world.a,
        data={"summary": "x", "is_anonymous": True, "caller_phone": "07700900777"},
    )
    with org_context(world.a):
        assert Contact.objects.get(pk=contact.pk).caller_phone_index == ""


def test_unknown_report_fields_are_refused(world: World) -> None:
    with pytest.raises(CaseRuleError) as caught:
        services.submit_public_report(org=world.a, data={"summary": "x", "case": "1"})
    assert list(caught.value.errors) == ["case"]


def test_urgent_contact_waiting_too_long_raises_an_alert_until_taken(
    world: World, settings: object
) -> None:
    contact = services.submit_public_report(org=world.a, data={"summary": "x", "urgency": "urgent"})
    routine = services.submit_public_report(org=world.a, data={"summary": "y"})
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    with org_context(world.a):
        assert list(selectors.waiting_alerts(actor=advisor)) == []
        later = timezone.now() + timedelta(minutes=11)
        assert [c.pk for c in selectors.waiting_alerts(actor=advisor, now=later)] == [contact.pk]
        services.take_contact(actor=advisor, contact=contact)
        assert list(selectors.waiting_alerts(actor=advisor, now=later)) == []
        assert routine.pk not in [c.pk for c in selectors.waiting_alerts(actor=advisor, now=later)]


def test_task_assignment_notifies_and_completion_is_recorded(world: World) -> None:
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    supervisor = member(world, world.a, Role.SUPERVISOR)
    contact = contact_from(world, world.a, "+447700900100")
    with org_context(world.a):
        task = services.create_task(
            actor=supervisor, title="Call back safely", contact=contact, assignee=advisor.user
        )
        assert Notification.objects.filter(recipient=advisor.user).count() == 1
        assert [t.pk for t in selectors.open_tasks(actor=advisor)] == [task.pk]
        services.complete_task(actor=advisor, task=task)
        task.refresh_from_db()
        assert task.status == TaskStatus.DONE and task.completed_by == advisor.user
        with pytest.raises(CaseRuleError):
            services.complete_task(actor=advisor, task=task)


def test_task_cannot_be_assigned_outside_the_organisation(world: World) -> None:
    supervisor = member(world, world.a, Role.SUPERVISOR)
    with org_context(world.a), pytest.raises(CaseRuleError):
        services.create_task(
            actor=supervisor, title="x", assignee=world.user(world.b, Role.CASEWORKER)
        )


def test_markdown_is_rendered_without_raw_html_or_script_links() -> None:
    html = render_markdown(
        "# Visa\n<script>alert(1)</script>\n[x](javascript:alert(1)) **bold** <img src=x onerror=y>"
    )
    assert "<h1>Visa</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "<img" not in html and 'href="javascript:' not in html


def test_knowledge_search_finds_words_and_never_another_organisations_articles(
    world: World,
) -> None:
    for org in (world.a, world.b):
        actor = member(world, org, Role.SUPERVISOR)
        with org_context(org):
            services.save_article(
                actor=actor,
                title=f"Passport retention {org.slug}",
                body="When an employer keeps the passport, explain the National Referral Mechanism.",
                tags="documents, nrm",
            )
            services.save_article(actor=actor, title="Cleaning", body="Unrelated guidance.")
    advisor = member(world, world.a, Role.HELPLINE_ADVISOR)
    with org_context(world.a):
        found = selectors.search_knowledge(actor=advisor, query="passport referral")
        assert [a.title for a in found] == ["Passport retention alpha"]
        assert selectors.search_knowledge(actor=advisor, query="nothingmatches") == []
        assert selectors.search_knowledge(actor=advisor, query="'\" OR *") == []
