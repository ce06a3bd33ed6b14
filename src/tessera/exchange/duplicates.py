"""Find people in the organisation who match an incoming person by blind index (never by
decrypting): same identity number, same mobile phone, or same names and date of birth."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from tessera.cases.models import Person
from tessera.vault.fields import index_for


def _index(kind: str, value: Any) -> str:
    try:
        return index_for(kind, value)
    except (ValueError, TypeError):
        return ""


def matching_people(person: dict[str, Any]) -> list[tuple[str, str]]:
    """(person id, why) for existing people who look like `person` (an HTCDS document entry)."""
    tests: list[tuple[Q, str]] = []
    document = _index("document", person.get("prs_IdentityNumber"))
    if document:
        tests.append((Q(identity_number_index=document), _("same identity number")))
    phone = _index("phone", person.get("prs_MobilePhone"))
    if phone:
        tests.append((Q(mobile_phone_index=phone), _("same mobile phone")))
    first = _index("name", person.get("prs_FirstName"))
    second = _index("name", person.get("prs_SecondName"))
    born = _index("dob", person.get("prs_Birthdate"))
    if first and second and born:
        tests.append(
            (
                Q(first_name_index=first, second_name_index=second, birthdate_index=born),
                _("same names and date of birth"),
            )
        )
    found: dict[str, str] = {}
    for query, why in tests:
        for pk in Person.objects.filter(query, merged_into__isnull=True).values_list(
            "pk", flat=True
        )[:5]:
            found.setdefault(str(pk), why)
    return sorted(found.items())
