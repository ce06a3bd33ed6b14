"""Reads of people: visibility through their cases, exact search over blind indexes, duplicates."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from tessera.cases.models import CaseParty, Person
from tessera.cases.selectors.access import visible_cases
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm
from tessera.vault.fields import index_for


def search_people(*, actor: Membership, query: str) -> QuerySet[Person]:
    """Exact search over blind indexes: full name, first or second name, phone, document number,
    or date of birth (YYYY-MM-DD). Needs Perm.VIEW_IDENTITY."""
    if not actor.has_perm(Perm.VIEW_IDENTITY) or not query.strip():
        return Person.objects.none()
    return visible_people(actor=actor).filter(identity_match(query.strip()))


def identity_match(query: str) -> Q:
    """The blind-index comparisons a search text can satisfy (none: matches no one)."""
    return identity_condition(identity_values(query))


def identity_values(query: str) -> dict[str, str]:
    """The blind indexes of a search text, named by the comparison each goes into (the names are
    the shape of the search, the values change with the text)."""
    kinds = query_kinds(query)
    values = {}
    if "dob" in kinds:
        values["dob"] = index_for("dob", date.fromisoformat(query))
    if "name" in kinds and (name_index := index_for("name", query)):
        values["name"] = name_index
        parts = query.split()
        if len(parts) >= 2:
            values["first"] = index_for("name", parts[0])
            values["second"] = index_for("name", " ".join(parts[1:]))
    if "phone" in kinds and (phone_index := index_for("phone", query)):
        values["phone"] = phone_index
    if "document" in kinds and (document_index := index_for("document", query)):
        values["document"] = document_index
    return values


def identity_condition(values: Mapping[str, Any]) -> Q:
    """`identity_values` as blind-index comparisons (none: matches no one)."""
    condition = Q(pk__in=[])
    if "dob" in values:
        condition |= Q(birthdate_index=values["dob"])
    if "name" in values:
        condition |= Q(first_name_index=values["name"]) | Q(second_name_index=values["name"])
    if "first" in values:
        condition |= Q(first_name_index=values["first"], second_name_index=values["second"])
    if "phone" in values:
        condition |= Q(mobile_phone_index=values["phone"]) | Q(home_phone_index=values["phone"])
    if "document" in values:
        condition |= Q(identity_number_index=values["document"])
    return condition


_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{6,}")


def query_kinds(query: str) -> frozenset[str]:
    """Which blind indexes a search text can match, so only those are computed and compared.

    A date (YYYY-MM-DD) is only a date of birth; text without digits only a name; digits with phone
    punctuation a phone or a document number; any other mix of letters and digits a document.
    """
    with contextlib.suppress(ValueError):
        date.fromisoformat(query)
        return frozenset({"dob"})
    has_digit = any(c.isdigit() for c in query)
    if not has_digit:
        return frozenset({"name"})
    if _PHONE_LIKE.fullmatch(query):
        return frozenset({"phone", "document"})
    return frozenset({"document"})


def visible_people(*, actor: Membership) -> QuerySet[Person]:
    """People not merged away who are in a case the actor can see, or in no case at all."""
    if not actor.has_perm(Perm.VIEW_CASES):
        return Person.objects.none()
    in_visible = Exists(
        CaseParty.objects.filter(
            person=OuterRef("pk"), case__in=visible_cases(actor=actor).values("pk")
        )
    )
    in_any = Exists(CaseParty.objects.filter(person=OuterRef("pk")))
    return Person.objects.filter(merged_into__isnull=True).filter(in_visible | ~in_any)


def get_person(*, actor: Membership, person_id: uuid.UUID | str) -> Person:
    try:
        return visible_people(actor=actor).get(pk=person_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def person_cases(*, actor: Membership, person: Person) -> tuple[list[CaseParty], int]:
    """The person's roles in cases the actor can see, and how many other cases hold them."""
    roles = CaseParty.objects.filter(person=person)
    visible = list(
        roles.filter(case__in=visible_cases(actor=actor).values("pk"))
        .select_related("case")
        .order_by("-case__opened_on")
    )
    return visible, roles.count() - len(visible)


def find_duplicates(
    *, actor: Membership, data: dict[str, Any], exclude: uuid.UUID | None = None
) -> QuerySet[Person]:
    """People matching a new record on name and date of birth, phone, or document number."""
    if not actor.has_perm(Perm.VIEW_IDENTITY):
        return Person.objects.none()
    condition = Q(pk__in=[])
    first = index_for("name", data.get("prs_FirstName") or "")
    second = index_for("name", data.get("prs_SecondName") or "")
    try:
        dob = index_for("dob", data.get("prs_Birthdate") or "")
    except ValueError:
        dob = ""
    if first and second:
        condition |= Q(first_name_index=first, second_name_index=second)
    if first and dob:
        condition |= Q(first_name_index=first, birthdate_index=dob)
    for name in ("prs_MobilePhone", "prs_HomePhone"):
        phone = index_for("phone", data.get(name) or "")
        if phone:
            condition |= Q(mobile_phone_index=phone) | Q(home_phone_index=phone)
    document = index_for("document", data.get("prs_IdentityNumber") or "")
    if document:
        condition |= Q(identity_number_index=document)
    people = visible_people(actor=actor).filter(condition)
    return people.exclude(pk=exclude) if exclude else people
