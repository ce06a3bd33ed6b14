"""Helpers for case tests: the acting membership of a role, and a case with a victim."""

from __future__ import annotations

from tessera.audit.models import AuditEvent
from tessera.cases import services
from tessera.cases.models import Case, CaseParty
from tessera.tenancy.models import Membership, Organisation
from tessera.tenancy.roles import Role

from .conftest import World


def actor(world: World, org: Organisation, role: Role | str = Role.CASEWORKER) -> Membership:
    return Membership.objects.select_related("org", "user").get(user=world.user(org, role), org=org)


def open_case_with_victim(member: Membership, **case_data: object) -> tuple[Case, CaseParty]:
    case = services.open_case(actor=member, data=dict(case_data))
    party = services.add_party(
        actor=member,
        case=case,
        role="PotentialVictim",
        person_data={
            "prs_FirstName": "Amina",
            "prs_SecondName": "Haddad",
            "prs_MobilePhone": "+44 7700 900123",
            "prs_Birthdate": "1999-04-01",
            "prs_IdentityNumber": "P-1234 567",
            "prs_Gender": "Feminine",
        },
        context={"vic_TypeOfExploitation": ["ForcedLabour"]},
    )
    return case, party


def audit_actions(org: Organisation) -> list[str]:
    from tessera.tenancy.context import org_context

    with org_context(org):
        return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
