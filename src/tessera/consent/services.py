"""Recording and withdrawing consent. Each is a new record, audited in its own transaction."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.audit.services import record
from tessera.cases.models import Case, Person
from tessera.cases.services.common import CaseRuleError, acting, require
from tessera.consent.models import Consent, Purpose
from tessera.htcds.validation import MAX_LONG_TEXT
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm


def record_consent(
    *,
    actor: Membership,
    person: Person,
    purpose: str,
    is_given: bool,
    evidence: str = "",
    case: Case | None = None,
) -> Consent:
    require(actor, Perm.EDIT_CASES)
    error = CaseRuleError()
    if purpose not in Purpose.values:
        error.add("purpose", _("%(value)s is not a value of purpose.") % {"value": repr(purpose)})
    if not isinstance(is_given, bool):
        error.add("con_Consent", _("con_Consent must be true or false."))
    if not isinstance(evidence, str) or len(evidence) > MAX_LONG_TEXT:
        error.add("evidence", _("evidence must be text."))
    if person.merged_into_id is not None:
        error.add("person", _("This record was merged into another."))
    with acting(actor):
        if case is not None and not case.parties.filter(person=person).exists():
            error.add("person", _("This person is not part of the case."))
        if error.errors:
            raise error
        consent: Consent = Consent.objects.create(
            person=person,
            case=case,
            purpose=purpose,
            is_given=is_given,
            evidence=evidence.strip(),
            recorded_at=timezone.now(),
            recorded_by=actor.user,
        )
        record(
            action="consent.give" if is_given else "consent.withdraw",
            object_type="Consent",
            object_id=str(consent.pk),
            fields=["con_Consent"],
            reason=purpose,
        )
    return consent


def withdraw_consent(
    *, actor: Membership, person: Person, purpose: str, evidence: str = "", case: Case | None = None
) -> Consent:
    return record_consent(
        actor=actor, person=person, purpose=purpose, is_given=False, evidence=evidence, case=case
    )
