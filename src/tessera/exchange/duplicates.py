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
from tessera.tenancy.context import require_org
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
    if tests and connection.vendor == "postgresql":
        keep_statistics_fresh()  # these are blind-index lookups too
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
    known = stored_matches({key for keys in wanted for key in keys})
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


MatchKey = tuple[str, tuple[str, ...]]


def stored_matches(keys: Collection[MatchKey]) -> dict[MatchKey, str]:
    """For each key that an existing (unmerged) person of the organisation has, one such person."""
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        return _stored_matches_by_lookup(keys)
    values = {kind: {key[1][0] for key in keys if key[0] == kind} for kind in _COLUMNS}
    rows = Person.objects.filter(
        is_one_of("identity_number_index", values["document"])
        | is_one_of("mobile_phone_index", values["phone"])
        | is_one_of("first_name_index", values["name_dob"]),
        merged_into__isnull=True,
    ).values_list("pk", *[column for columns in _COLUMNS.values() for column in columns])
    known: dict[MatchKey, str] = {}
    for pk, doc, phone, first, second, born in rows:
        for key in (("document", (doc,)), ("phone", (phone,)), ("name_dob", (first, second, born))):
            if key in keys:
                known.setdefault(key, str(pk))
    return known


_COLUMNS = {
    "document": ("identity_number_index",),
    "phone": ("mobile_phone_index",),
    "name_dob": ("first_name_index", "second_name_index", "birthdate_index"),
}


def _stored_matches_by_lookup(keys: Collection[MatchKey]) -> dict[MatchKey, str]:
    """One index lookup per key (PostgreSQL).

    Matching the whole batch as a set (`column IN (the batch's values)` in an OR, a join,
    `= ANY`) reads all of the organisation's people for every batch, more of them with every
    batch an import commits. A subquery with LIMIT 1 per key reads a few entries of one blind
    index's B-tree, at any table size, provided the planner has statistics: without any it cannot
    tell a blind index from `org_id` and would scan the organisation for every key, which
    `keep_statistics_fresh` prevents (docs/decisions/0007-imports.md).
    """
    org_id = require_org().pk
    keep_statistics_fresh()
    parts: list[str] = []
    params: list[Any] = []
    for kind, columns in _COLUMNS.items():
        wanted = sorted({key[1] for key in keys if key[0] == kind})
        if not wanted:
            continue
        names = ["a", "b", "c"][: len(columns)]
        # Column names come from _COLUMNS, never from the file; values are parameters.
        test = " AND ".join(f"p.{c} = v.{n}" for c, n in zip(columns, names, strict=True))
        padded = ", ".join(f"v.{n}" if n in names else f"NULL::text AS {n}" for n in "abc")
        parts.append(
            f"SELECT %s::text AS kind, {padded}, (SELECT p.id FROM cases_person p WHERE {test} "  # noqa: S608
            "AND p.merged_into_id IS NULL AND p.org_id = %s LIMIT 1) AS person "
            f"FROM unnest({', '.join(['%s::text[]'] * len(columns))}) AS v({', '.join(names)})"
        )
        params.extend([kind, org_id, *([key[i] for key in wanted] for i in range(len(columns)))])
    query = " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query}) AS m WHERE m.person IS NOT NULL", params)  # noqa: S608
        return {
            (kind, tuple(v for v in (a, b, c) if v is not None)): str(person)
            for kind, a, b, c, person in cursor.fetchall()
        }


def keep_statistics_fresh() -> None:
    """Analyse `cases_person` when it has more than doubled since PostgreSQL last looked (or was
    never analysed), so that the lookups above keep their plan while an import fills the table:
    a handful of small ANALYZEs per import (milliseconds each), through a function that runs as
    the table's owner. Without the right to call it, the check goes on with what statistics
    there are."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relpages, pg_relation_size(c.oid) / current_setting('block_size')::int, "
            "coalesce(has_function_privilege("
            "to_regprocedure('tessera_analyze_people()'), 'execute'), false) "
            "FROM pg_class c WHERE c.oid = 'cases_person'::regclass"
        )
        analysed_pages, pages, allowed = cursor.fetchone()
        if allowed and pages > max(2 * analysed_pages, 8):
            cursor.execute("SELECT tessera_analyze_people()")
