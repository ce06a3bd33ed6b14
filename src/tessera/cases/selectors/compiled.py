"""Hot reads compiled once per shape: the statement the ORM builds, sent again with new values.

Building and compiling the access rule's queries costs more CPU than PostgreSQL spends answering
them (a page of the case list: about 4 ms of Python against 1-5 ms of SQL, bench/README.md), and
for one actor and one shape of request the statement is the same every time. So it is built by
the ORM, through the org-scoped managers, once, and kept.

A shape's key must hold everything that decides the statement's text and values except the values
passed as `slots`, which are compiled as unique stand-ins and replaced on every call (the current
time, a case id). Callers put the organisation and the actor (user, role, team) in every key, so
one organisation's statement is never sent for another, and row-level security would refuse its
rows anyway. Only on PostgreSQL, whose driver takes the values as the ORM passes them; elsewhere
the ORM builds the query each time. A stand-in that the ORM transforms (a `LIKE` pattern, say)
cannot be found again: such a shape is not kept and is built every time.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, router
from django.db.models import DEFERRED, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesIterable

from tessera.tenancy.context import require_org

# Per thread (each has its own connection), at most this many shapes (a few kB each: the
# statement, its values and converters); then it starts again.
MAX_SHAPES = 1024

M = TypeVar("M", bound=Model)
Build = Callable[[dict[str, Any]], QuerySet[Any]]
BuildSql = Callable[[dict[str, Any]], tuple[str, list[Any]]]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: Sequence[Any]
    slots: tuple[tuple[int, str], ...] = ()  # (position in params, slot name)
    # For a query of rows: their names, and the converters the ORM applies to fetched values
    # (position: (converters, expression)).
    names: tuple[str, ...] = ()
    converters: dict[int, tuple[list[Any], Any]] = field(default_factory=dict)
    # For a model query of some of the model's columns (`.only()`): where each fetched value goes
    # among the model's concrete fields (the others are deferred). Worked out once here rather than
    # by `Model.from_db` for every row, which searches the names for each field.
    spread: tuple[int, ...] | None = None

    def fetch(self, db: str, values: dict[str, Any]) -> list[list[Any]]:
        rows = self.fetch_unconverted(db, values)
        self.convert(db, rows)
        return rows

    def fetch_unconverted(self, db: str, values: dict[str, Any]) -> list[list[Any]]:
        with connections[db].cursor() as cursor:
            cursor.execute(self.sql, self.bind(values))
            return [list(row) for row in cursor.fetchall()]

    def convert(
        self, db: str, rows: list[list[Any]], positions: Iterable[int] | None = None
    ) -> None:
        """Apply the ORM's converters to `rows`, in place (only at `positions`, if given)."""
        connection = connections[db]
        wanted = None if positions is None else set(positions)
        for position, (converters, expression) in self.converters.items():
            if wanted is not None and position not in wanted:
                continue
            for row in rows:
                for convert in converters:
                    row[position] = convert(row[position], expression, connection)

    def bind(self, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for position, name in self.slots:
            params[position] = values[name]
        return params


_local = threading.local()
_NOT_KEPT = object()


def value_rows(
    key: tuple[Any, ...], model: type[Model], build: Build, slots: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rows, as `.values()` dicts, of the values query that `build(slots)` returns."""
    db = router.db_for_read(model)
    compiled = _compiled(key, db, lambda stand_ins: _from_queryset(build(stand_ins), db), slots)
    if compiled is None:
        return list(build(slots))
    return [dict(zip(compiled.names, row, strict=True)) for row in compiled.fetch(db, slots)]


def model_rows(
    key: tuple[Any, ...], model: type[M], build: Build, slots: dict[str, Any]
) -> list[M]:
    """The instances that the plain query `build(slots)` returns (no `select_related`, no
    annotations; `.only()` is kept), prepared as the org-scoped managers prepare fetched rows."""
    fetched = fetched_rows(key, model, build, slots)
    return fetched.instances(range(len(fetched)))


def fetched_rows(
    key: tuple[Any, ...], model: type[M], build: Build, slots: dict[str, Any]
) -> Fetched[M]:
    """As `model_rows`, but each row becomes an instance only when asked for: a caller that reads
    one column of many rows and shows a few of them builds only those (the caller lookup reads 40
    contacts' cases and lists 20)."""
    db = router.db_for_read(model)
    compiled = _compiled(
        key, db, lambda stand_ins: _from_model_queryset(build(stand_ins), db), slots
    )
    if compiled is None:
        return Fetched(model, db, None, list(build(slots)))
    return Fetched(model, db, compiled, compiled.fetch_unconverted(db, slots))


class Fetched(Generic[M]):
    """The rows of a model statement, kept (`compiled` set: raw rows, converted and made into
    instances on demand) or built by the ORM (`compiled` None: the rows are the instances)."""

    def __init__(
        self, model: type[M], db: str, compiled: _Compiled | None, rows: list[Any]
    ) -> None:
        self.model, self.db, self.compiled, self.rows = model, db, compiled, rows
        self._converted: set[int] = set()

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, attname: str) -> list[Any]:
        if self.compiled is None:
            return [getattr(instance, attname) for instance in self.rows]
        position = self.compiled.names.index(attname)
        if position not in self._converted:
            self.compiled.convert(self.db, self.rows, [position])
            self._converted.add(position)
        return [row[position] for row in self.rows]

    def instances(self, indexes: Iterable[int]) -> list[M]:
        if self.compiled is None:
            return [self.rows[i] for i in indexes]
        compiled, model, db = self.compiled, self.model, self.db
        # Copies: the fetched rows keep only the columns `column()` converted.
        chosen = [list(self.rows[i]) for i in indexes]
        pending = [p for p in range(len(compiled.names)) if p not in self._converted]
        if pending:
            compiled.convert(db, chosen, pending)
        if compiled.spread is None:
            found = [model.from_db(db, compiled.names, row) for row in chosen]
        else:
            attnames = [f.attname for f in model._meta.concrete_fields]
            template: list[Any] = [DEFERRED] * len(attnames)
            found = []
            for row in chosen:
                values = template.copy()
                for position, value in zip(compiled.spread, row, strict=True):
                    values[position] = value
                found.append(model.from_db(db, attnames, values))
        hook = getattr(model, "tessera_after_fetch", None)
        if hook is not None and found:
            hook(found)
        return found


def statement(
    key: tuple[Any, ...], model: type[Model], build: BuildSql, slots: dict[str, Any]
) -> tuple[str, list[Any]]:
    """The statement and values that `build(slots)` returns, compiled once for `key`."""
    db = router.db_for_read(model)
    compiled = _compiled(key, db, lambda stand_ins: _Compiled(*build(stand_ins)), slots)
    if compiled is None:
        return build(slots)
    return compiled.sql, compiled.bind(slots)


def _compiled(
    key: tuple[Any, ...],
    db: str,
    compile_with: Callable[[dict[str, Any]], _Compiled | None],
    slots: dict[str, Any],
) -> _Compiled | None:
    if connections[db].vendor != "postgresql":
        return None
    shapes: dict[tuple[Any, ...], Any] | None = getattr(_local, "shapes", None)
    if shapes is None:
        shapes = _local.shapes = {}
    full_key = (db, require_org().pk, *key)
    found = shapes.get(full_key)
    if found is None:
        if len(shapes) >= MAX_SHAPES:
            shapes.clear()
        found = shapes[full_key] = _with_slots(compile_with, slots) or _NOT_KEPT
    return None if found is _NOT_KEPT else cast(_Compiled, found)


def _with_slots(
    compile_with: Callable[[dict[str, Any]], _Compiled | None], slots: dict[str, Any]
) -> _Compiled | None:
    """Compiled with stand-ins for the slots, and the places where each stand-in ended up."""
    stand_ins = {name: _stand_in(value) for name, value in slots.items()}
    if any(stand_in is None for stand_in in stand_ins.values()):
        return None
    try:
        compiled = compile_with(stand_ins)
    except (ValidationError, ValueError, TypeError):
        return None  # a stand-in the field refuses (a text for a UUID, say): built every time
    if compiled is None:
        return None
    positions = []
    for position, param in enumerate(compiled.params):
        names = [n for n, s in stand_ins.items() if type(param) is type(s) and param == s]
        if names:
            positions.append((position, names[0]))
        elif any(str(s) in str(param) for s in stand_ins.values()):
            return None  # transformed by the ORM: it cannot be replaced safely
    if {name for _position, name in positions} != set(slots):
        return None
    return replace(compiled, slots=tuple(positions))


def _from_queryset(queryset: QuerySet[Any], db: str) -> _Compiled | None:
    if queryset._iterable_class is not ValuesIterable:
        return None  # not a values() query
    compiler = queryset.query.get_compiler(using=db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None  # the ORM answers it without a statement
    query = queryset.query
    # As ValuesIterable names a row's values.
    names = tuple(
        query.selected or (*query.extra_select, *query.values_select, *query.annotation_select)
    )
    columns = [column for column, *_ in compiler.select[: compiler.col_count]]
    if len(names) != len(columns):
        return None
    return _Compiled(sql, tuple(params), (), names, compiler.get_converters(columns))


def _from_model_queryset(queryset: QuerySet[Any], db: str) -> _Compiled | None:
    query = queryset.query
    if (
        queryset._iterable_class is not ModelIterable
        or query.select_related
        or query.annotation_select
        or query.extra_select
        or getattr(queryset, "_prefetch_related_lookups", None)
        or getattr(queryset, "_known_related_objects", None)
    ):
        return None
    compiler = query.get_compiler(using=db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    columns = [column for column, *_ in compiler.select[: compiler.col_count]]
    names = tuple(column.target.attname for column in columns)
    model_fields = [f.attname for f in queryset.model._meta.concrete_fields]
    spread = None
    if names != tuple(model_fields):
        where = {attname: position for position, attname in enumerate(model_fields)}
        if not set(names) <= set(where) or len(set(names)) != len(names):
            return None
        spread = tuple(where[name] for name in names)
    return _Compiled(sql, tuple(params), (), names, compiler.get_converters(columns), spread)


def _stand_in(value: Any) -> Any:
    """A value of `value`'s type that no query holds by chance."""
    if isinstance(value, uuid.UUID):
        return uuid.UUID(bytes=secrets.token_bytes(16))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=secrets.randbelow(10**12))
    if type(value) is int:
        return -(2**62) - secrets.randbelow(2**40)
    if type(value) is str:
        return f"stand-in:{secrets.token_hex(16)}"
    return None
