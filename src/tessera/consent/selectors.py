"""Reading consent: the current state per purpose is the latest record for it."""

from __future__ import annotations

from django.db.models import QuerySet

from tessera.cases.models import Person
from tessera.consent.models import Consent, Purpose


def consent_history(*, person: Person) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(person=person).select_related("recorded_by").order_by("-recorded_at")
    )


def current_consent(*, person: Person) -> dict[str, Consent | None]:
    """Purpose → the latest record (None when never asked)."""
    latest: dict[str, Consent | None] = dict.fromkeys(Purpose.values)
    for consent in consent_history(person=person):
        if latest.get(consent.purpose) is None:
            latest[consent.purpose] = consent
    return latest


def has_consent(*, person: Person, purpose: str) -> bool:
    current = current_consent(person=person).get(purpose)
    return current is not None and current.is_given
