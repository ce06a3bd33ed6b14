"""Find people in the organisation who match an incoming person by blind index (never by
decrypting): same identity number, same mobile phone, or same names and date of birth."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
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


# The indexes a person is matched on: identity number, mobile phone, first name, second name and
# date of birth ('' where absent).
PersonIndexes = tuple[str, str, str, str, str]
# A unit's first row and its people's indexes.
DuplicateCheck = tuple[int, list[PersonIndexes]]


def person_indexes(person: dict[str, Any]) -> PersonIndexes:
    return (
        _index("document", person.get("prs_IdentityNumber")),
        _index("phone", person.get("prs_MobilePhone")),
        _index("name", person.get("prs_FirstName")),
        _index("name", person.get("prs_SecondName")),
        _index("dob", person.get("prs_Birthdate")),
    )


def _keys(indexes: PersonIndexes) -> list[tuple[str, tuple[str, ...]]]:
    document, phone, first, second, born = indexes
    out: list[tuple[str, tuple[str, ...]]] = []
    if document:
        out.append(("document", (document,)))
    if phone:
        out.append(("phone", (phone,)))
    if first and second and born:
        out.append(("name_dob", (first, second, born)))
    return out


def is_one_of(field: str, values: Collection[str]) -> Q:
    """`field__in=values`, given to PostgreSQL as one array: with a batch's thousands of values,
    one placeholder per value costs more to build and send than the query costs to run."""
    if connection.vendor == "postgresql" and values:
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::text[])", [list(values)])})
    return Q(**{f"{field}__in": values})


def _why(kind: str) -> str:
    return {
        "document": _("same identity number"),
        "phone": _("same mobile phone"),
        "name_dob": _("same names and date of birth"),
    }[kind]


def matching_people_in_batch(people: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    """`matching_people` for many people with one query, also matching earlier people of the
    same batch (not yet saved) as `#n`."""
    return matching_indexes_in_batch([person_indexes(p) for p in people])


def matching_indexes_in_batch(people: list[PersonIndexes]) -> list[list[tuple[str, str]]]:
    """`matching_people_in_batch` for people whose indexes are already computed."""
    wanted = [_keys(p) for p in people]
    docs = {k[1][0] for keys in wanted for k in keys if k[0] == "document"}
    phones = {k[1][0] for keys in wanted for k in keys if k[0] == "phone"}
    firsts = {k[1][0] for keys in wanted for k in keys if k[0] == "name_dob"}
    known: dict[tuple[str, tuple[str, ...]], str] = {}
    if docs or phones or firsts:
        rows = Person.objects.filter(
            is_one_of("identity_number_index", docs)
            | is_one_of("mobile_phone_index", phones)
            | is_one_of("first_name_index", firsts),
            merged_into__isnull=True,
        ).values_list(
            "pk",
            "identity_number_index",
            "mobile_phone_index",
            "first_name_index",
            "second_name_index",
            "birthdate_index",
        )
        for pk, doc, phone, first, second, born in rows:
            stored: list[tuple[str, tuple[str, ...]]] = [
                ("document", (doc,)),
                ("phone", (phone,)),
                ("name_dob", (first, second, born)),
            ]
            for key in stored:
                known.setdefault(key, str(pk))
    out = []
    for i, keys in enumerate(wanted):
        found: dict[str, str] = {}
        for key in keys:
            match = known.get(key)
            if match is not None:
                found.setdefault(match, _why(key[0]))
        for key in keys:
            known.setdefault(key, f"#{i + 1} of this batch")
        out.append(sorted(found.items()))
    return out
