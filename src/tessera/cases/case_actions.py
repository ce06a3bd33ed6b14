"""The forms of the case page: which fields each shows (HTCDS and the organisation's own) and the
service each POSTed action calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, QueryDict

from tessera.cases import selectors, services
from tessera.cases.forms import (
    FormField,
    extension_form_fields,
    form_fields,
    parse_extensions,
    parse_post,
)
from tessera.cases.models import Case, CaseStatus, ExtensionEntity, ExtensionField
from tessera.consent.services import record_consent
from tessera.htcds.schema import EVENT_FIELDS, PERPETRATOR_FIELDS, PLAN_FIELDS, VICTIM_FIELDS
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership

PERSON_FORM_FIELDS = [
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "prs_MobilePhone",
    "prs_IdentityNumber",
    "prs_PrimaryLanguage",
]
PARTY_FORM_FIELDS = [
    n
    for n in VICTIM_FIELDS
    if not n.startswith("vic_AgreementTo")
    and n not in ("vic_Vulnerabilities", "vic_DetailsOfVulnerabilities")
] + PERPETRATOR_FIELDS
# cas_Status, cas_CaseOwner and cas_ReasonForCaseClosure change through their own actions.
CASE_DETAIL_FIELDS = [
    "cas_ReferringOrganisation",
    "cas_IncomingReferralDate",
    "cas_ReferringPrimaryCaseWorker",
    "cas_ReasonForIncomingReferral",
    "cas_IncomingReferralDetails",
]


@dataclass
class Outcome:
    """Where the page goes after an action, and what to show again if it was refused."""

    tab: str
    errors: dict[str, list[str]]
    values: dict[str, Any]


class Definitions:
    """The organisation's extension fields by entity, read once per request."""

    def __init__(self) -> None:
        self._all = list(selectors.extension_fields())

    def of(self, *entities: str) -> list[ExtensionField]:
        return [d for d in self._all if d.entity in entities]


def case_forms(
    definitions: Definitions, values: dict[str, Any], errors: dict[str, list[str]]
) -> dict[str, list[FormField]]:
    """Every form of the case page, filled with the values of a refused submission."""
    extensions = values.get("extensions")

    def own(*entities: str) -> list[FormField]:
        return extension_form_fields(definitions.of(*entities), extensions, errors)

    return {
        "person_fields": form_fields(PERSON_FORM_FIELDS, values, errors)
        + own(ExtensionEntity.PERSON),
        "party_fields": form_fields(PARTY_FORM_FIELDS, values, errors) + own(ExtensionEntity.PARTY),
        "event_fields": form_fields(EVENT_FIELDS, values, errors) + own(ExtensionEntity.EVENT),
        "plan_fields": form_fields(PLAN_FIELDS, values, errors) + own(ExtensionEntity.PLAN),
        "case_fields": form_fields(CASE_DETAIL_FIELDS, values, errors) + own(ExtensionEntity.CASE),
    }


def case_detail_values(case: Case) -> dict[str, Any]:
    """The details form's starting values: what the case holds now."""
    from tessera.cases import fieldmap

    values = fieldmap.export_values(case, fieldmap.CASE, names=CASE_DETAIL_FIELDS)
    return {**values, "extensions": dict(case.extensions)}


def _add_party(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    values = parse_post(post, PERSON_FORM_FIELDS + PARTY_FORM_FIELDS)
    extensions = parse_extensions(post, defs.of(ExtensionEntity.PERSON, ExtensionEntity.PARTY))
    values["extensions"] = extensions
    person_names = {d.name for d in defs.of(ExtensionEntity.PERSON)}
    person_data = {k: v for k, v in values.items() if k.startswith("prs_")}
    person_data["extensions"] = {k: v for k, v in extensions.items() if k in person_names}
    context = {k: v for k, v in values.items() if k.startswith(("vic_", "per_"))}
    context["extensions"] = {k: v for k, v in extensions.items() if k not in person_names}
    existing = post.get("existing_person")
    person = selectors.get_person(actor=actor, person_id=existing) if existing else None
    _run(
        values,
        lambda: services.add_party(
            actor=actor,
            case=case,
            role=post.get("role", ""),
            person=person,
            person_data=None if person else person_data,
            context=context,
        ),
    )
    return Outcome("people", {}, {})


def _record_event(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    values = parse_post(post, EVENT_FIELDS)
    values["extensions"] = parse_extensions(post, defs.of(ExtensionEntity.EVENT))
    _run(values, lambda: services.record_event(actor=actor, case=case, data=values))
    return Outcome("events", {}, {})


def _create_plan(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    values = parse_post(post, PLAN_FIELDS)
    values["extensions"] = parse_extensions(post, defs.of(ExtensionEntity.PLAN))

    def create() -> None:
        plan = services.create_support_plan(actor=actor, case=case, data=values)
        if post.get("goal", "").strip():
            services.add_goal(actor=actor, plan=plan, data={"description": post["goal"]})

    _run(values, create)
    return Outcome("plan", {}, {})


def _update_case(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    # Every field is sent, empty ones as None, so that clearing an input clears the value.
    filled = parse_post(post, CASE_DETAIL_FIELDS)
    values: dict[str, Any] = {name: filled.get(name) for name in CASE_DETAIL_FIELDS}
    values["extensions"] = parse_extensions(post, defs.of(ExtensionEntity.CASE))
    _run(values, lambda: services.update_case(actor=actor, case=case, data=values))
    return Outcome("details", {}, {})


def _add_note(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    services.add_note(
        actor=actor, case=case, body=post.get("cco_CaseComment", ""), kind=post.get("kind", "note")
    )
    return Outcome("notes", {}, {})


def _record_consent(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    person = selectors.get_person(actor=actor, person_id=post.get("person", ""))
    record_consent(
        actor=actor,
        person=person,
        purpose=post.get("purpose", ""),
        is_given=post.get("con_Consent") == "given",
        evidence=post.get("evidence", ""),
        case=case,
    )
    return Outcome("consent", {}, {})


def _request_closure(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    services.request_closure(
        actor=actor,
        case=case,
        reason=post.get("reason", ""),
        status=post.get("status", CaseStatus.CLOSED),
    )
    return Outcome("people", {}, {})


def _approve_closure(actor: Membership, case: Case, post: QueryDict, defs: Definitions) -> Outcome:
    services.approve_closure(actor=actor, case=case)
    return Outcome("people", {}, {})


class _Refused(Exception):
    def __init__(self, errors: dict[str, list[str]], values: dict[str, Any]) -> None:
        self.errors, self.values = errors, values


def _run(values: dict[str, Any], action: Callable[[], object]) -> None:
    try:
        action()
    except HtcdsValidationError as exc:
        raise _Refused(exc.errors, values) from None


ACTIONS: dict[str, Callable[[Membership, Case, QueryDict, Definitions], Outcome]] = {
    "add_party": _add_party,
    "record_event": _record_event,
    "create_plan": _create_plan,
    "update_case": _update_case,
    "add_note": _add_note,
    "record_consent": _record_consent,
    "request_closure": _request_closure,
    "approve_closure": _approve_closure,
}


def handle_action(
    actor: Membership, case: Case, post: QueryDict, definitions: Definitions
) -> Outcome:
    """Run the POSTed action through its service; a refusal comes back with its errors and the
    values to show again (404 for an unknown action)."""
    action = ACTIONS.get(post.get("action", ""))
    if action is None:
        raise Http404
    try:
        return action(actor, case, post, definitions)
    except _Refused as refused:
        return Outcome(post.get("tab", "people"), refused.errors, refused.values)
    except HtcdsValidationError as exc:
        return Outcome(post.get("tab", "people"), exc.errors, {})
