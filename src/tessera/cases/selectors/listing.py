"""The case list: allow-listed filters, search, pages (newest first) and exact counts."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone

from tessera.cases.models import Case, CaseCount, CaseParty, Person
from tessera.cases.selectors import compiled
from tessera.cases.selectors.access import actor_shape, case_rows, visibility
from tessera.cases.selectors.people import identity_condition, identity_values
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

    A page and a count are compiled once per actor, filters and kind of search (`compiled`): the
    time and the search's values (its text and blind indexes) are passed anew on every call."""

    def __init__(self, *, actor: Membership, filters: dict[str, Any]) -> None:
        self.actor = actor
        self.filters = filters
        self.is_allowed = actor.has_perm(Perm.VIEW_CASES)
        self.identity = actor.has_perm(Perm.VIEW_IDENTITY)
        self.used = {key: value for key, value in filters.items() if value}
        # A search's values (the text and its blind indexes) are passed anew on every call, so its
        # statements are kept by which comparisons it makes, not by the text.
        self.search = _search_values(actor, str(filters.get("q") or "").strip())
        plain = tuple(sorted((k, v) for k, v in self.used.items() if k != "q"))
        self.shape = (*actor_shape(actor), plain, tuple(sorted(self.search or ())))

    def slots(self) -> dict[str, Any]:
        return {"now": timezone.now(), **(self.search or {})}

    def cases(self, slots: dict[str, Any] | None = None) -> QuerySet[Case]:
        if not self.is_allowed:
            return Case.objects.none()
        slots = slots or self.slots()
        filtered = _filtered(self.filters, self.search and slots, with_identity=self.identity)
        return filtered.filter(visibility(self.actor, now=slots["now"]).any())

    def page(self, offset: int, limit: int, slots: dict[str, Any] | None = None) -> QuerySet[Case]:
        """One page, newest first. The page's ids are chosen first, from an index that holds every
        column the filters and the access rule read (case_org_*_cover), so only the page's own
        rows are read from the table, whatever the planner guesses about the filters."""
        ids = self.cases(slots).order_by(*CASE_ORDER).values("pk")[offset : offset + limit]
        return Case.objects.filter(pk__in=ids).order_by(*CASE_ORDER)

    def page_rows(self, offset: int, limit: int, columns: tuple[str, ...]) -> list[dict[str, Any]]:
        """One page as `case_rows`."""
        if not self.is_allowed:
            return []

        def build(slots: dict[str, Any]) -> QuerySet[Any]:
            return case_rows(self.page(offset, limit, slots), columns)

        key = ("case page", *self.shape, offset, limit, columns)
        return compiled.value_rows(key, Case, build, self.slots())

    def count(self) -> int:
        """The total, in one statement that adds the disjoint parts of the access rule instead of
        testing the whole rule on every case. On PostgreSQL, when every filter is one of
        CaseCount's columns, the standard and team parts come from the kept counts; otherwise
        each part is counted from one range of a partial index."""
        if not self.is_allowed:
            return 0
        key = ("case count", *self.shape)
        sql, params = compiled.statement(key, Case, self._count_statement, self.slots())
        if not sql:
            return 0
        with connections[router.db_for_read(Case)].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return int(row[0]) if row else 0

    def _count_statement(self, slots: dict[str, Any]) -> tuple[str, list[Any]]:
        cases = _filtered(self.filters, self.search and slots, with_identity=self.identity)
        cases = cases.order_by()
        parts = visibility(self.actor, now=slots["now"]).disjoint_parts()
        if connections[cases.db].vendor == "postgresql" and set(self.used) <= set(_GROUP_FILTERS):
            groups = CaseCount.objects.filter(
                **{_GROUP_FILTERS[key]: value for key, value in self.used.items()}
            )
            return counts_statement(
                [cases.filter(parts[-1]).values("pk")],
                summed=[groups.filter(part).values("n") for part in parts[:-1]],
            )
        return counts_statement([cases.filter(part).values("pk") for part in parts])


def filter_cases(*, actor: Membership, filters: dict[str, Any]) -> QuerySet[Case]:
    return CaseListing(actor=actor, filters=filters).cases().select_related("owner")


def add_counts(counted: list[QuerySet[Any]], summed: Sequence[QuerySet[Any]] = ()) -> int:
    """The rows of `counted` plus the sums of the single column of `summed`, in one round trip."""
    sql, params = counts_statement(counted, summed)
    if not sql:
        return 0
    with connections[(counted or list(summed))[0].db].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def counts_statement(
    counted: list[QuerySet[Any]], summed: Sequence[QuerySet[Any]] = ()
) -> tuple[str, list[Any]]:
    """The statement of `add_counts` ("" when every part can match nothing)."""
    parts = []
    for queryset, template in [
        *((q, "(SELECT COUNT(*) FROM ({}) AS counted)") for q in counted),
        *((q, "(SELECT COALESCE(SUM(n), 0) FROM ({}) AS summed)") for q in summed),
    ]:
        with contextlib.suppress(EmptyResultSet):  # a part that can match nothing counts 0
            sql, params = queryset.query.sql_with_params()
            parts.append((template.format(sql), params))
    if not parts:
        return "", []
    # The parts are SQL compiled by Django; every value in them stays a parameter.
    return "SELECT " + " + ".join(sql for sql, _params in parts), [
        p for _sql, params in parts for p in params
    ]


def _filtered(
    filters: dict[str, Any], search: dict[str, Any] | None, *, with_identity: bool
) -> QuerySet[Case]:
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
    if search:
        cases = cases.filter(pk__in=_cases_matching(search, with_identity))
    return cases


def _search_values(actor: Membership, query: str) -> dict[str, str] | None:
    """What a search compares: the text with references and, for holders of Perm.VIEW_IDENTITY,
    its blind indexes with people's (`identity_values`); None without a search."""
    if not query:
        return None
    if not actor.has_perm(Perm.VIEW_IDENTITY):
        return {"reference": query}
    return {"reference": query, **{f"person {k}": v for k, v in identity_values(query).items()}}


def _cases_matching(search: dict[str, Any], with_identity: bool) -> QuerySet[Any]:
    """Ids of cases whose reference is the search text, or (for holders of Perm.VIEW_IDENTITY)
    that hold a person whose blind indexes match it. One UNION that the database answers from the
    reference and blind indexes first, rather than a test on every case of the organisation. The
    people need no visibility test of their own: the caller keeps only cases the actor can see."""
    by_reference = Case.objects.filter(reference=search["reference"]).order_by().values("pk")
    if not with_identity:
        return by_reference
    identity = {k.removeprefix("person "): v for k, v in search.items() if k.startswith("person ")}
    people = Person.objects.filter(identity_condition(identity), merged_into__isnull=True)
    holding = CaseParty.objects.filter(person__in=people.values("pk")).order_by()
    return by_reference.union(holding.values("case_id"))
