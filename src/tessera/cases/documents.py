"""HTCDS case documents: one JSON object holding a case and everything recorded in it.

Import validates and creates everything in one transaction through the ordinary services (each
audited), so a document with one bad value saves nothing; errors name the field with its path
(`people[1].prs_Gender`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from tessera.cases import serializers, services
from tessera.cases.models import Case, ExtensionEntity, Person
from tessera.cases.selectors.extensions import extension_fields
from tessera.cases.services.common import acting, audit
from tessera.consent.models import Consent
from tessera.consent.services import record_consent
from tessera.htcds.schema import PERSON_FIELDS
from tessera.htcds.validation import HtcdsValidationError
from tessera.tenancy.models import Membership

_TOP_LEVEL = {"htcds_version", "case", "people", "events", "support_plans", "comments", "consent"}
_READ_ONLY = {
    "id",
    "person_id",
    "reference",
    "case_id",
    "recorded_at",
    "closed_on",
    "closure_requested",
}


@contextmanager
def _at(path: str) -> Iterator[None]:
    """Prefix the field names of validation errors raised inside with the document path."""
    try:
        yield
    except HtcdsValidationError as exc:
        raise HtcdsValidationError(
            {f"{path}.{key}": messages for key, messages in exc.errors.items()}
        ) from None


def _strip(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in _READ_ONLY}


def _shape(document: Any) -> None:
    error = HtcdsValidationError()
    if not isinstance(document, dict):
        raise HtcdsValidationError({"document": [_("The document must be a JSON object.")]})
    for key in set(document) - _TOP_LEVEL:
        error.add(key, _("%(field)s is not part of an HTCDS case document.") % {"field": key})
    if document.get("htcds_version", "2.0") != "2.0":
        error.add("htcds_version", _("Only HTCDS 2.0 documents are accepted."))
    if not isinstance(document.get("case"), dict):
        error.add("case", _("case must be an object."))
    for key in _TOP_LEVEL - {"htcds_version", "case"}:
        entries = document.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            error.add(key, _("%(field)s must be a list of objects.") % {"field": key})
    if error.errors:
        raise error


def import_case_document(*, actor: Membership, document: Any) -> Case:
    _shape(document)
    with acting(actor):
        with _at("case"):
            case = services.open_case(actor=actor, data=_strip(document["case"]))
        people: dict[str, Person] = {}
        person_names = {f.name for f in extension_fields(entity=ExtensionEntity.PERSON)}
        for i, entry in enumerate(document.get("people", [])):
            data = _strip(entry)
            ref = str(data.pop("ref", "") or f"#{i}")
            role = data.pop("role", None)
            if ref in people:
                raise HtcdsValidationError({f"people[{i}].ref": [_("ref must be unique.")]})
            extensions = data.pop("extensions", {})
            with _at(f"people[{i}]"):
                if not isinstance(extensions, dict):
                    raise HtcdsValidationError({"extensions": [_("extensions must be an object.")]})
                person_data = {k: v for k, v in data.items() if k in PERSON_FIELDS}
                context = {k: v for k, v in data.items() if k not in PERSON_FIELDS}
                person_data["extensions"] = {
                    k: v for k, v in extensions.items() if k in person_names
                }
                context["extensions"] = {
                    k: v for k, v in extensions.items() if k not in person_names
                }
                party = services.add_party(
                    actor=actor,
                    case=case,
                    role=role or "",
                    person_data=person_data,
                    context=context,
                )
            people[ref] = party.person
        for i, entry in enumerate(document.get("events", [])):
            with _at(f"events[{i}]"):
                services.record_event(actor=actor, case=case, data=_strip(entry))
        for i, entry in enumerate(document.get("support_plans", [])):
            data = _strip(entry)
            goals = data.pop("goals", [])
            with _at(f"support_plans[{i}]"):
                plan = services.create_support_plan(actor=actor, case=case, data=data)
                if not isinstance(goals, list) or not all(isinstance(g, dict) for g in goals):
                    raise HtcdsValidationError({"goals": [_("goals must be a list of objects.")]})
                for j, goal in enumerate(goals):
                    with _at(f"goals[{j}]"):
                        services.add_goal(actor=actor, plan=plan, data=_strip(goal))
        for i, entry in enumerate(document.get("comments", [])):
            data = _strip(entry)
            with _at(f"comments[{i}]"):
                _only(data, {"cco_CaseComment", "kind", "occurred_at"})
                services.add_note(
                    actor=actor,
                    case=case,
                    body=data.get("cco_CaseComment", ""),
                    kind=data.get("kind", "note"),
                    occurred_at=data.get("occurred_at"),
                )
        for i, entry in enumerate(document.get("consent", [])):
            data = _strip(entry)
            with _at(f"consent[{i}]"):
                _only(data, {"ref", "purpose", "con_Consent", "evidence"})
                person = people.get(str(data.get("ref", "")))
                if person is None:
                    raise HtcdsValidationError(
                        {"ref": [_("ref must name a person in this document.")]}
                    )
                record_consent(
                    actor=actor,
                    person=person,
                    purpose=data.get("purpose", ""),
                    is_given=data.get("con_Consent"),  # type: ignore[arg-type]
                    evidence=data.get("evidence", "") or "",
                    case=case,
                )
        audit("case.import_htcds", case)
    return case


def _only(data: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise HtcdsValidationError(
            {k: [_("%(field)s is not a field of this record.") % {"field": k}] for k in unknown}
        )


def export_case_document(*, actor: Membership, case: Case) -> dict[str, Any]:
    """The case as an HTCDS document; identity fields only for holders of Perm.VIEW_IDENTITY."""
    from tessera.tenancy.roles import Perm

    with_identity = actor.has_perm(Perm.VIEW_IDENTITY)
    parties = list(case.parties.select_related("person"))
    refs = {party.person_id: f"p{i + 1}" for i, party in enumerate(parties)}
    people = []
    for party in parties:
        person = serializers.person_out(party.person, with_identity=with_identity)
        context = serializers.party_out(party)
        people.append(
            {
                "id": context.pop("id"),
                "person_id": person.pop("id"),
                "ref": refs[party.person_id],
                "role": context.pop("role"),
                **{k: v for k, v in person.items() if k != "extensions"},
                **{k: v for k, v in context.items() if k not in ("case_id", "person_id")},
                # The person's own fields and their fields in this case share one set of names.
                "extensions": {**person["extensions"], **context["extensions"]},
            }
        )
    if with_identity and parties:
        for party in parties:
            services.record_identity_read(actor=actor, person=party.person, purpose="htcds export")
    case_data = serializers.case_out(case)
    for key in ("closed_on", "closure_requested"):
        case_data.pop(key)
    consents = Consent.objects.filter(case=case).order_by("recorded_at")
    return {
        "htcds_version": "2.0",
        "case": case_data,
        "people": people,
        "events": [
            _drop_case(serializers.event_out(e)) for e in case.events.order_by("date", "created_at")
        ],
        "support_plans": [
            _drop_case(serializers.plan_out(p))
            for p in case.support_plans.prefetch_related("goals")
        ],
        "comments": [
            {k: v for k, v in serializers.note_out(n).items() if k not in ("case_id", "author")}
            for n in case.notes.order_by("occurred_at")
        ],
        "consent": [
            {
                "id": str(c.pk),
                "ref": refs.get(c.person_id, ""),
                "purpose": c.purpose,
                "con_Consent": c.is_given,
                "evidence": c.evidence,
                "recorded_at": c.recorded_at.isoformat(),
            }
            for c in consents
            if c.person_id in refs
        ],
    }


def _drop_case(data: dict[str, Any]) -> dict[str, Any]:
    data.pop("case_id", None)
    return data
