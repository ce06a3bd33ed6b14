"""The case list: allow-listed filters, search, pages (newest first) and exact counts."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet

from tessera.cases.models import Case, CaseCount, CaseParty, Person
from tessera.cases.selectors.access import visibility
from tessera.cases.selectors.people import identity_match
from tessera.tenancy.models import Membership
from tessera.tenancy.roles import Perm

LIST_FILTERS = (
    "status",
    "owner",
    "exploitation_type",
    "country",
    "opened_from",
    "opened_to",
    "sensitivity",
    "team",
)
CASE_ORDER = ("-opened_on", "-created_at")
# Filters that test a column of CaseCount's groups by equality: with no others, PostgreSQL's kept
# counts answer the parts of the rule that need no case row.
_GROUP_FILTERS = {
    "status": "status",
    "owner": "owner_id",
    "team": "team",
    "sensitivity": "sensitivity",
}


class CaseListing:
    """The cases one actor finds with one set of filters and search (reference, or exact
    blind-index search by phone, name or document number when the actor may search identities).
    The access rule and the filters are built once and shared by the page and the count."""

    def __init__(self, *, actor: Membership, filters: dict[str, Any]) -> None:
        self.is_allowed = actor.has_perm(Perm.VIEW_CASES)
        self.rule = visibility(actor)
        self.filtered = _filtered(actor, filters)
        self.used = {key: value for key, value in filters.items() if value}

    def cases(self) -> QuerySet[Case]:
        if not self.is_allowed:
            return Case.objects.none()
        return self.filtered.filter(self.rule.any())

    def page(self, offset: int, limit: int) -> QuerySet[Case]:
        """One page, newest first. The page's ids are chosen first, from an index that holds every
        column the filters and the access rule read (case_org_*_cover), so only the page's own
        rows are read from the table, whatever the planner guesses about the filters."""
        ids = self.cases().order_by(*CASE_ORDER).values("pk")[offset : offset + limit]
        return Case.objects.filter(pk__in=ids).order_by(*CASE_ORDER)

    def count(self) -> int:
        """The total, in one statement that adds the disjoint parts of the access rule instead of
        testing the whole rule on every case. On PostgreSQL, when every filter is one of
        CaseCount's columns, the standard and team parts come from the kept counts; otherwise
        each part is counted from one range of a partial index."""
        if not self.is_allowed:
            return 0
        cases = self.filtered.order_by()
        parts = self.rule.disjoint_parts()
        if connections[cases.db].vendor == "postgresql" and set(self.used) <= set(_GROUP_FILTERS):
            groups = CaseCount.objects.filter(
                **{_GROUP_FILTERS[key]: value for key, value in self.used.items()}
            )
            return add_counts(
                [cases.filter(parts[-1]).values("pk")],
                summed=[groups.filter(part).values("n") for part in parts[:-1]],
            )
        return add_counts([cases.filter(part).values("pk") for part in parts])


def filter_cases(*, actor: Membership, filters: dict[str, Any]) -> QuerySet[Case]:
    return CaseListing(actor=actor, filters=filters).cases().select_related("owner")


def add_counts(counted: list[QuerySet[Any]], summed: Sequence[QuerySet[Any]] = ()) -> int:
    """The rows of `counted` plus the sums of the single column of `summed`, in one round trip."""
    parts = []
    for queryset, template in [
        *((q, "(SELECT COUNT(*) FROM ({}) AS counted)") for q in counted),
        *((q, "(SELECT COALESCE(SUM(n), 0) FROM ({}) AS summed)") for q in summed),
    ]:
        with contextlib.suppress(EmptyResultSet):  # a part that can match nothing counts 0
            sql, params = queryset.query.sql_with_params()
            parts.append((template.format(sql), params))
    if not parts:
        return 0
    # The parts are SQL compiled by Django; every value in them stays a parameter.
    with connections[(counted or list(summed))[0].db].cursor() as cursor:
        cursor.execute(
            "SELECT " + " + ".join(sql for sql, _params in parts),
            [p for _sql, params in parts for p in params],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _filtered(actor: Membership, filters: dict[str, Any]) -> QuerySet[Case]:
    cases: QuerySet[Case] = Case.objects.all()
    if value := filters.get("status"):
        cases = cases.filter(status=value)
    if value := filters.get("owner"):
        cases = cases.filter(owner_id=value)
    if value := filters.get("team"):
        cases = cases.filter(team=value)
    if value := filters.get("sensitivity"):
        cases = cases.filter(sensitivity=value)
    if value := filters.get("exploitation_type"):
        cases = cases.filter(exploitation_tags__contains=f"|{value}|")
    if value := filters.get("country"):
        cases = cases.filter(country_tags__contains=f"|{str(value).upper()}|")
    if isinstance(value := filters.get("opened_from"), date):
        cases = cases.filter(opened_on__gte=value)
    if isinstance(value := filters.get("opened_to"), date):
        cases = cases.filter(opened_on__lte=value)
    query = str(filters.get("q") or "").strip()
    if query:
        cases = cases.filter(pk__in=_cases_matching(actor, query))
    return cases


def _cases_matching(actor: Membership, query: str) -> QuerySet[Any]:
    """Ids of cases whose reference is `query`, or (for holders of Perm.VIEW_IDENTITY) that hold a
    person whose blind indexes match it. One UNION that the database answers from the reference
    and blind indexes first, rather than a test on every case of the organisation. The people need
    no visibility test of their own: the caller keeps only cases the actor can see."""
    by_reference = Case.objects.filter(reference=query).order_by().values("pk")
    if not actor.has_perm(Perm.VIEW_IDENTITY):
        return by_reference
    people = Person.objects.filter(identity_match(query), merged_into__isnull=True)
    holding = CaseParty.objects.filter(person__in=people.values("pk")).order_by()
    return by_reference.union(holding.values("case_id"))


def case_rows(cases: QuerySet[Case], columns: tuple[str, ...]) -> QuerySet[Any]:
    """`cases` as rows of `columns`; "owner_email" is the owner's e-mail (the only owner column
    read, so no user row, password hash included, leaves the database)."""
    return cases.annotate(owner_email=F("owner__email")).values(*columns)
