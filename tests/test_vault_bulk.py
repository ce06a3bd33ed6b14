"""Bulk subject keys: rows inserted with bulk_create seal and open like rows saved one by one."""

from __future__ import annotations

import uuid

import pytest

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


def test_row_ids_are_random_version_4_uuids() -> None:
    import uuid as uuid_module

    from tessera.vault.bulk import dashed, new_row_ids

    ids = new_row_ids(2000)
    assert len(set(ids)) == 2000
    for row_id in ids:
        parsed = uuid_module.UUID(row_id)
        assert parsed.version == 4 and parsed.variant == uuid_module.RFC_4122
        assert parsed.hex == row_id and dashed(row_id) == str(parsed)


def test_row_sealer_seals_and_indexes_as_the_model_fields_do(world: World) -> None:
    from django.utils import timezone

    from tessera.exchange.row_writer import insert_rows
    from tessera.vault.bulk import RowSealer, new_row_ids, sealing_keys
    from tessera.vault.crypto import TamperedError
    from tessera.vault.fields import index_for

    with org_context(world.a):
        sealer = RowSealer(sealing_keys())
        first, second = new_row_ids(2)
        rows, keys = [], []
        for row_id, name, phone in ((first, "Amara", "07700 900123"), (second, "Lin", "")):
            subject = sealer.new_subject(row_id)
            keys.append({"subject_id": row_id, "wrapped_key": subject.wrapped_key})
            row = {
                "id": row_id,
                "prs_first_name": sealer.seal(
                    subject, "cases_person", "prs_first_name", name.encode()
                ),
                "first_name_index": sealer.index("name", name),
                "mobile_phone_index": sealer.index("phone", phone),
            }
            if phone:
                row["prs_mobile_phone"] = sealer.seal(
                    subject, "cases_person", "prs_mobile_phone", phone.encode()
                )
            rows.append(row)
        insert_rows(Person, rows, now=timezone.now())
        insert_rows(SubjectKey, keys, now=timezone.now())
        clear_key_caches()
        amara = Person.objects.get(pk=first)
        assert amara.first_name == "Amara" and amara.mobile_phone == "07700 900123"
        # The organisation is in GB: a national number indexes as its E.164 form, as on save().
        assert amara.mobile_phone_index == index_for("phone", "+44 7700 900123") != ""
        assert amara.first_name_index == index_for("name", " amara ")
        assert Person.objects.get(pk=second).mobile_phone is None
        # Bound to its row: a ciphertext copied to another row does not open.
        sealed = Person.objects.filter(pk=first).values_list("first_name", flat=True)[0]
        Person.objects.filter(pk=second).update(first_name=bytes(sealed))
        clear_key_caches()
        with pytest.raises(TamperedError):
            _ = Person.objects.get(pk=second).first_name
