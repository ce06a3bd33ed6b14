"""Case services: validation before any write, exactly one audit event each, search, merge."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tessera.cases import selectors, services
from tessera.cases.models import Case, CaseParty, Person, TraffickingEvent
from tessera.consent import selectors as consent_selectors
from tessera.consent.services import record_consent, withdraw_consent
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.context import org_context
from tessera.tenancy.roles import Role

from .cases_helpers import actor, audit_actions, open_case_with_victim
from .conftest import World


def _count(org: object, model: type) -> int:
    with org_context(org):  # type: ignore[arg-type]
        return model.objects.count()


def test_open_case_numbers_it_and_records_one_audit_event(world: World) -> None:
    member = actor(world, world.a)
    before = audit_actions(world.a)
    first = services.open_case(actor=member, data={"cas_ReasonForIncomingReferral": "Other"})
    second = services.open_case(actor=member)
    assert first.reference != second.reference
    assert first.owner == member.user
    assert first.status == "Active"
    assert audit_actions(world.a)[len(before) :] == ["case.open", "case.open"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cas_ReasonForIncomingReferral": "Bored"}, "cas_ReasonForIncomingReferral"),
        ({"cas_IncomingReferralDate": "31/12/2024"}, "cas_IncomingReferralDate"),
        ({"cas_IncomingReferralDetails": 12}, "cas_IncomingReferralDetails"),
        ({"cas_Status": "Closed"}, "cas_Status"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"prs_FirstName": "x"}, "prs_FirstName"),
        ({"extensions": {"intake-channel": "web"}}, "extensions.intake-channel"),
    ],
)
def test_bad_case_input_names_the_field_and_saves_nothing(
    world: World, data: dict[str, object], field: str
) -> None:
    member = actor(world, world.a)
    before = audit_actions(world.a)
    with pytest.raises(HtcdsValidationError) as caught:
        services.open_case(actor=member, data=data)
    assert field in caught.value.errors
    assert _count(world.a, Case) == 0
    assert audit_actions(world.a) == before


def test_bad_party_context_rolls_back_the_new_person(world: World) -> None:
    member = actor(world, world.a)
    case = services.open_case(actor=member)
    with pytest.raises(HtcdsValidationError) as caught:
        services.add_party(
            actor=member,
            case=case,
            role="Perpetrator",
            person_data={"prs_FirstName": "Viktor", "prs_Gender": "Unknown"},
            context={"per_RoleInProcess": ["Recruiter"]},
        )
    assert set(caught.value.errors) == {"per_RoleInProcess"}
    assert _count(world.a, Person) == 0
    assert _count(world.a, CaseParty) == 0


def test_each_service_writes_exactly_its_audit_event(world: World) -> None:
    member = actor(world, world.a)
    supervisor = actor(world, world.a, Role.SUPERVISOR)
    case, party = open_case_with_victim(member)
    steps = [
        (
            lambda: services.record_event(
                actor=member, case=case, data={"hte_Type": "Exploitation", "hte_Country": "GB"}
            ),
            ["case.event_record"],
        ),
        (
            lambda: services.create_support_plan(
                actor=member, case=case, data={"spl_Type": "Health"}
            ),
            ["case.plan_create"],
        ),
        (
            lambda: services.add_note(actor=member, case=case, body="Called the shelter."),
            ["case.note_add"],
        ),
        (
            lambda: record_consent(
                actor=member,
                person=party.person,
                purpose="care",
                is_given=True,
                evidence="signed form",
                case=case,
            ),
            ["consent.give"],
        ),
        (
            lambda: services.change_status(actor=member, case=case, status="FollowUp"),
            ["case.status"],
        ),
        (
            lambda: services.request_closure(
                actor=member, case=case, reason="Returned home safely"
            ),
            ["case.closure_request"],
        ),
        (lambda: services.approve_closure(actor=supervisor, case=case), ["case.closure_approve"]),
    ]
    for step, expected in steps:
        before = audit_actions(world.a)
        step()
        assert audit_actions(world.a)[len(before) :] == expected
    assert case.status == "Closed"
    assert case.closed_on is not None


def test_a_failing_service_leaves_no_audit_event(world: World) -> None:
    member = actor(world, world.a)
    case = services.open_case(actor=member)
    before = audit_actions(world.a)
    with pytest.raises(HtcdsValidationError, match="hte_Date"):
        services.record_event(
            actor=member, case=case, data={"hte_Type": "Transit", "hte_Date": "soon"}
        )
    with pytest.raises(HtcdsValidationError, match="hte_Type"):
        services.record_event(actor=member, case=case, data={"hte_Type": "Holiday"})
    assert audit_actions(world.a) == before
    assert _count(world.a, TraffickingEvent) == 0


def test_closure_needs_a_reason_and_another_supervisor(world: World) -> None:
    member = actor(world, world.a)
    supervisor = actor(world, world.a, Role.SUPERVISOR)
    case = services.open_case(actor=member)
    with pytest.raises(HtcdsValidationError, match="cas_ReasonForCaseClosure"):
        services.request_closure(actor=member, case=case, reason=" ")
    with pytest.raises(PermissionDenied):
        services.approve_closure(actor=member, case=case)
    services.request_closure(actor=supervisor, case=case, reason="Duplicate of another case")
    with pytest.raises(PermissionDenied):
        services.approve_closure(actor=supervisor, case=case)
    with pytest.raises(HtcdsValidationError):
        services.change_status(actor=member, case=case, status="Closed")


def test_blind_index_search_finds_people_by_phone_name_document_and_birthdate(world: World) -> None:
    member = actor(world, world.a)
    case, party = open_case_with_victim(member)
    with org_context(world.a):
        for query in ("07700 900123", "amina", "HADDAD", "Amina Haddad", "p1234567", "1999-04-01"):
            found = list(selectors.search_people(actor=member, query=query))
            assert found == [party.person], query
        assert not selectors.search_people(actor=member, query="Amin").exists()
        assert list(selectors.filter_cases(actor=member, filters={"q": "+447700900123"})) == [case]
        assert list(selectors.filter_cases(actor=member, filters={"q": case.reference})) == [case]
        analyst = actor(world, world.a, Role.ANALYST)
        assert not selectors.search_people(actor=analyst, query="amina").exists()


def test_case_filters_use_exploitation_and_country(world: World) -> None:
    member = actor(world, world.a)
    case, _party = open_case_with_victim(member)
    services.record_event(
        actor=member, case=case, data={"hte_Type": "Exploitation", "hte_Country": "TH"}
    )
    other = services.open_case(actor=member)
    with org_context(world.a):

        def ids(**filters: object) -> set[object]:
            return set(
                selectors.filter_cases(actor=member, filters=filters).values_list("pk", flat=True)
            )

        assert ids(exploitation_type="ForcedLabour") == {case.pk}
        assert ids(country="TH") == {case.pk}
        assert ids(country="GB") == set()
        assert ids() == {case.pk, other.pk}


def test_merge_moves_roles_and_consent_and_hides_the_duplicate(world: World) -> None:
    member = actor(world, world.a)
    case1, party1 = open_case_with_victim(member)
    case2 = services.open_case(actor=member)
    dup = services.add_party(
        actor=member,
        case=case2,
        role="Perpetrator",
        person_data={
            "prs_FirstName": "amina",
            "prs_SecondName": "haddad",
            "prs_Email": "a@example.org",
        },
    )
    record_consent(actor=member, person=dup.person, purpose="contact", is_given=True)
    with org_context(world.a):
        matches = selectors.find_duplicates(
            actor=member, data={"prs_FirstName": "Amina", "prs_SecondName": "Haddad"}
        )
        assert set(matches) == {party1.person, dup.person}
    keep = services.merge_people(actor=member, keep=party1.person, duplicate=dup.person)
    with org_context(world.a):
        keep = Person.objects.get(pk=keep.pk)
        assert keep.email == "a@example.org"
        roles, hidden = selectors.person_cases(actor=member, person=keep)
        assert {r.case_id for r in roles} == {case1.pk, case2.pk}
        assert hidden == 0
        assert consent_selectors.has_consent(person=keep, purpose="contact")
        assert not selectors.visible_people(actor=member).filter(pk=dup.person.pk).exists()
    assert audit_actions(world.a)[-2:] == ["person.merge", "person.merged_into"]


def test_consent_withdrawal_is_a_new_record(world: World) -> None:
    member = actor(world, world.a)
    case, party = open_case_with_victim(member)
    record_consent(actor=member, person=party.person, purpose="research", is_given=True, case=case)
    withdraw_consent(actor=member, person=party.person, purpose="research", evidence="phone call")
    with org_context(world.a):
        assert not consent_selectors.has_consent(person=party.person, purpose="research")
        assert consent_selectors.consent_history(person=party.person).count() == 2
    with pytest.raises(HtcdsValidationError, match="purpose"):
        record_consent(actor=member, person=party.person, purpose="marketing", is_given=True)


def test_extension_fields_are_validated_and_kept_under_their_names(world: World) -> None:
    admin = actor(world, world.a, Role.ORG_ADMIN)
    member = actor(world, world.a)
    services.define_extension_field(
        actor=admin,
        entity="case",
        name="intake-channel",
        label="Intake channel",
        type="picklist",
        choices=["web", "phone"],
    )
    with pytest.raises(HtcdsValidationError, match="name"):
        services.define_extension_field(
            actor=admin, entity="case", name="cas_Status", label="x", type="text"
        )
    with pytest.raises(PermissionDenied):
        services.define_extension_field(
            actor=member, entity="case", name="other", label="x", type="text"
        )
    case = services.open_case(actor=member, data={"extensions": {"intake-channel": "web"}})
    assert case.extensions == {"intake-channel": "web"}
    with pytest.raises(HtcdsValidationError) as caught:
        services.open_case(actor=member, data={"extensions": {"intake-channel": "fax"}})
    assert "extensions.intake-channel" in caught.value.errors
    # Organisation B has no such field: its members cannot use A's definition.
    with pytest.raises(HtcdsValidationError, match="intake-channel"):
        services.open_case(
            actor=actor(world, world.b), data={"extensions": {"intake-channel": "web"}}
        )


def test_analyst_can_neither_edit_nor_create_people(world: World) -> None:
    analyst = actor(world, world.a, Role.ANALYST)
    with pytest.raises(PermissionDenied):
        services.open_case(actor=analyst)
    with pytest.raises(PermissionDenied):
        services.create_person(actor=analyst, data={"prs_FirstName": "x"})
