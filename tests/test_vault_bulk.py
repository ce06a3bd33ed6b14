"""Bulk subject keys: rows inserted with bulk_create seal and open like rows saved one by one."""

from __future__ import annotations

import uuid

from tessera.cases.models import Person
from tessera.tenancy.context import org_context
from tessera.vault.bulk import create_subject_keys, seal_with
from tessera.vault.keys import clear_key_caches
from tessera.vault.models import SubjectKey

from .conftest import World


def test_bulk_created_people_open_with_their_own_keys(world: World) -> None:
    with org_context(world.a):
        people = [Person(id=uuid.uuid4(), org=world.a, first_name=f"P{i}") for i in range(3)]
        keys = create_subject_keys(p.pk for p in people)
        for person in people:
            seal_with(person, keys[person.pk])
        Person.objects.bulk_create(people)
        assert SubjectKey.objects.count() == 3
        clear_key_caches()
        assert sorted(p.first_name for p in Person.objects.all()) == ["P0", "P1", "P2"]
