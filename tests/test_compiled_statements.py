"""Statements compiled once per shape (`cases.selectors.compiled`) and sent again with new values:
each organisation gets its own, a value the ORM transforms is never replaced by hand, and the rows
come back as the ORM would make them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import QuerySet

from tessera.cases.selectors import compiled
from tessera.helpline.models import Contact
from tessera.tenancy.context import org_context
from tessera.vault.blind import blind_index

from .conftest import ON_POSTGRES, World
from .helpline_helpers import contact_from


def _by_index(slots: dict[str, Any]) -> QuerySet[Contact]:
    return Contact.objects.filter(caller_phone_index=slots["index"]).only("started_at", "team")


def _ids(slots: dict[str, Any]) -> QuerySet[Any]:
    return Contact.objects.filter(caller_phone_index=slots["index"]).values("id", "started_at")


def test_each_organisation_gets_its_own_statement_and_rows(world: World) -> None:
    phone = "+447700900321"
    mine = {contact_from(world, world.a, phone).pk for _ in range(2)}
    theirs = {contact_from(world, world.b, phone).pk}
    for org, expected in ((world.a, mine), (world.b, theirs), (world.a, mine)):
        with org_context(org):
            slots = {"index": blind_index("phone", phone)}
            rows = compiled.model_rows(("test contacts",), Contact, _by_index, slots)
            assert {c.pk for c in rows} == expected
            assert all(c.org_id == org.pk and c.started_at is not None for c in rows)
            values = compiled.value_rows(("test ids",), Contact, _ids, slots)
            assert {r["id"] for r in values} == expected
            assert values == list(_ids(slots))  # converted as the ORM converts them


def test_a_value_the_orm_transforms_is_not_kept(world: World) -> None:
    """`LIKE` patterns are built from the value: such a shape is built by the ORM every time."""
    contact_from(world, world.a, "+447700900321", team="north")

    def like(slots: dict[str, Any]) -> QuerySet[Any]:
        return Contact.objects.filter(team__contains=slots["team"]).values("id")

    with org_context(world.a):
        for team, found in (("nor", 1), ("sou", 0), ("%", 0)):
            rows = compiled.value_rows(("test like",), Contact, like, {"team": team})
            assert len(rows) == found, team
        if ON_POSTGRES:
            assert compiled._compiled(("test like",), "default", lambda s: None, {}) is None


@pytest.mark.skipif(not ON_POSTGRES, reason="statements are kept on PostgreSQL only")
def test_a_kept_statement_is_built_once(world: World) -> None:
    contact_from(world, world.a, "+447700900321")
    built: list[dict[str, Any]] = []

    def counting(slots: dict[str, Any]) -> QuerySet[Any]:
        built.append(slots)
        return _ids(slots)

    with org_context(world.a):
        for phone in ("+447700900321", "+447700900999", "+447700900321"):
            slots = {"index": blind_index("phone", phone)}
            compiled.value_rows(("test once",), Contact, counting, slots)
    assert len(built) == 1
    assert built[0]["index"].startswith("stand-in:")


def test_a_stand_in_the_field_refuses_leaves_the_shape_to_the_orm(world: World) -> None:
    """A case id given as text cannot be stood in for by text (not a UUID): built every time."""
    contact = contact_from(world, world.a, "+447700900321")

    def by_pk(slots: dict[str, Any]) -> QuerySet[Any]:
        return Contact.objects.filter(pk=slots["pk"]).values("id")

    with org_context(world.a):
        for _ in range(2):
            rows = compiled.value_rows(("test pk",), Contact, by_pk, {"pk": str(contact.pk)})
            assert rows == [{"id": contact.pk}]


@pytest.mark.parametrize(
    "fields", [("started_at", "team"), ("team", "started_at", "case"), ()], ids=str
)
def test_kept_model_rows_are_the_instances_the_orm_makes(
    world: World, fields: tuple[str, ...]
) -> None:
    """Of some columns (`.only()`, in any order) or all: the same values, the same deferred fields."""
    phone = "+447700900321"
    for _ in range(2):
        contact_from(world, world.a, phone, team="north")

    def build(slots: dict[str, Any]) -> QuerySet[Contact]:
        query = Contact.objects.filter(caller_phone_index=slots["index"]).order_by("started_at")
        return query.only(*fields) if fields else query

    with org_context(world.a):
        slots = {"index": blind_index("phone", phone)}
        for _ in range(2):  # compiled, then kept
            kept = compiled.model_rows(("test rows", fields), Contact, build, slots)
            made = list(build(slots))
            assert [c.pk for c in kept] == [c.pk for c in made]
            for ours, orms in zip(kept, made, strict=True):
                assert ours.get_deferred_fields() == orms.get_deferred_fields()
                loaded = [f.attname for f in Contact._meta.concrete_fields]
                loaded = [name for name in loaded if name not in orms.get_deferred_fields()]
                assert {n: getattr(ours, n) for n in loaded} == {
                    n: getattr(orms, n) for n in loaded
                }
                assert not ours._state.adding and ours._state.db == orms._state.db
