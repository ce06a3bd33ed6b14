"""Object factories for the generic cross-organisation enumeration test.

Maps (API operation path or URL name, path parameter) → a function (org) -> id of a new object of
that organisation, created inside org_context(org). The enumeration test creates an object in one
organisation and asks for it as every member of the other: every answer must be 404.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.accounts.models import User
from tessera.cases import services
from tessera.cases.models import Case
from tessera.consent.services import record_consent
from tessera.tenancy.context import org_context
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role


def _owner(org: Organisation) -> Membership:
    """A caseworker of `org` (created if the organisation has none) to act as."""
    membership = (
        Membership.objects.select_related("org", "user")
        .filter(org=org, role=Role.CASEWORKER, is_active=True)
        .first()
    )
    if membership is None:
        from tessera.accounts.services import create_user
        from tessera.tenancy.services import add_member

        user: User = create_user(
            email=f"factory-caseworker@{org.slug}.test", password="factory-password-123456"
        )
        add_member(org=org, user=user, role=Role.CASEWORKER)
        membership = Membership.objects.select_related("org", "user").get(org=org, user=user)
    return membership


def make_case(org: Organisation) -> str:
    with org_context(org):
        return str(services.open_case(actor=_owner(org)).pk)


def _case_with_victim(org: Organisation) -> tuple[Membership, Case, str, str]:
    member = _owner(org)
    with org_context(org):
        case = services.open_case(actor=member)
        party = services.add_party(
            actor=member, case=case, role="PotentialVictim", person_data={"prs_FirstName": "Enum"}
        )
    return member, case, str(party.pk), str(party.person_id)


def make_person(org: Organisation) -> str:
    return _case_with_victim(org)[3]


def make_party(org: Organisation) -> str:
    return _case_with_victim(org)[2]


def make_event(org: Organisation) -> str:
    member = _owner(org)
    with org_context(org):
        case = services.open_case(actor=member)
        return str(services.record_event(actor=member, case=case, data={"hte_Type": "Transit"}).pk)


def make_plan(org: Organisation) -> str:
    member = _owner(org)
    with org_context(org):
        case = services.open_case(actor=member)
        return str(services.create_support_plan(actor=member, case=case, data={}).pk)


def make_note(org: Organisation) -> str:
    member = _owner(org)
    with org_context(org):
        case = services.open_case(actor=member)
        return str(services.add_note(actor=member, case=case, body="enumeration").pk)


def make_consent(org: Organisation) -> str:
    member, case, _party, person_id = _case_with_victim(org)
    with org_context(org):
        person = case.parties.get(person_id=person_id).person
        return str(record_consent(actor=member, person=person, purpose="care", is_given=True).pk)


def make_extension_field(org: Organisation) -> str:
    admin = (
        Membership.objects.select_related("org", "user")
        .filter(org=org, role=Role.ORG_ADMIN, is_active=True)
        .first()
    )
    assert admin is not None, "extension-field factories need an org admin"
    with org_context(org):
        field = services.define_extension_field(
            actor=admin,
            entity="case",
            name=f"enumeration-{Case.objects.count()}",
            label="Enumeration",
            type="picklist",
            choices=["a"],
        )
        return str(field.pk)


def make_import_job(org: Organisation) -> str:
    from tessera.exchange.models import ImportJob

    with org_context(org):
        job = ImportJob(format="csv", filename="enumeration.csv", sha256="0" * 64, content=b"x")
        job.save()
        return str(job.pk)


def make_release(org: Organisation) -> str:
    from tessera.releases.models import Release, ReleaseStatus

    member = _owner(org)
    with org_context(org):
        # Approved, so that members allowed to download get past the approval check to the lookup.
        release = Release.objects.create(
            kind="kanon",
            status=ReleaseStatus.APPROVED,
            prepared_by=member.user,
            output_csv="x\n1\n",
        )
        return str(release.pk)


def _advisor(org: Organisation) -> Membership:
    membership = (
        Membership.objects.select_related("org", "user")
        .filter(org=org, role__in=[Role.HELPLINE_ADVISOR, Role.SUPERVISOR], is_active=True)
        .first()
    )
    assert membership is not None, "helpline factories need an advisor or supervisor"
    return membership


def make_contact(org: Organisation) -> str:
    from tessera.helpline import services as helpline

    with org_context(org):
        contact = helpline.record_contact(
            actor=_advisor(org), data={"channel": "phone", "caller_phone": "+447700900001"}
        )
        return str(contact.pk)


def make_task(org: Organisation) -> str:
    from tessera.helpline import services as helpline

    with org_context(org):
        return str(helpline.create_task(actor=_advisor(org), title="enumeration").pk)


def make_article(org: Organisation) -> str:
    from tessera.helpline import services as helpline

    supervisor = Membership.objects.select_related("org", "user").get(
        org=org, role=Role.SUPERVISOR, user__email=f"supervisor@{org.slug}.test"
    )
    with org_context(org):
        return str(helpline.save_article(actor=supervisor, title="Guide", body="Text").pk)


FACTORIES: dict[tuple[str, str], Callable[[Organisation], str]] = {
    ("/api/v1/cases/{case_id}", "case_id"): make_case,
    ("/api/v1/cases/{case_id}/status", "case_id"): make_case,
    ("/api/v1/cases/{case_id}/closure", "case_id"): make_case,
    ("/api/v1/cases/{case_id}/closure/approve", "case_id"): make_case,
    ("/api/v1/cases/{case_id}/break-glass", "case_id"): make_case,
    ("/api/v1/htcds/cases/{case_id}", "case_id"): make_case,
    ("/api/v1/people/{person_id}", "person_id"): make_person,
    ("/api/v1/parties/{party_id}", "party_id"): make_party,
    ("/api/v1/events/{event_id}", "event_id"): make_event,
    ("/api/v1/support-plans/{plan_id}", "plan_id"): make_plan,
    ("/api/v1/notes/{note_id}", "note_id"): make_note,
    ("/api/v1/consents/{consent_id}", "consent_id"): make_consent,
    ("/api/v1/imports/{job_id}", "job_id"): make_import_job,
    ("/api/v1/imports/{job_id}/commit", "job_id"): make_import_job,
    ("/api/v1/imports/{job_id}/report.csv", "job_id"): make_import_job,
    ("exchange:import_detail", "job_id"): make_import_job,
    ("exchange:import_commit", "job_id"): make_import_job,
    ("exchange:import_report", "job_id"): make_import_job,
    ("/api/v1/releases/{release_id}", "release_id"): make_release,
    ("/api/v1/releases/{release_id}/approve", "release_id"): make_release,
    ("/api/v1/releases/{release_id}/reject", "release_id"): make_release,
    ("/api/v1/releases/{release_id}/download", "release_id"): make_release,
    ("releases:release_decide", "release_id"): make_release,
    ("releases:release_download", "release_id"): make_release,
    ("cases:case_detail", "case_id"): make_case,
    ("cases:case_break_glass", "case_id"): make_case,
    ("cases:person_detail", "person_id"): make_person,
    ("cases:extension_field_edit", "field_id"): make_extension_field,
    ("/api/v1/extension-fields/{field_id}", "field_id"): make_extension_field,
    ("/api/v1/helpline/contacts/{contact_id}", "contact_id"): make_contact,
    ("/api/v1/helpline/contacts/{contact_id}/case", "contact_id"): make_contact,
    ("/api/v1/helpline/contacts/{contact_id}/people", "contact_id"): make_contact,
    ("/api/v1/helpline/tasks/{task_id}/complete", "task_id"): make_task,
    ("/api/v1/helpline/knowledge/{article_id}", "article_id"): make_article,
    ("helpline:contact_detail", "contact_id"): make_contact,
    ("helpline:contact_take", "contact_id"): make_contact,
    ("helpline:contact_link_case", "contact_id"): make_contact,
    ("helpline:task_add", "contact_id"): make_contact,
    ("helpline:task_complete", "task_id"): make_task,
    ("helpline:article", "article_id"): make_article,
    ("helpline:article_edit", "article_id"): make_article,
}
