"""The import's duplicate check: which existing people a batch's people match, by blind index."""

from __future__ import annotations

from datetime import date

import pytest

from tessera.cases.models import Person
from tessera.exchange.duplicates import (
    keep_statistics_fresh,
    matching_indexes_in_batch,
    matching_people_in_batch,
    stored_matches,
)
from tessera.tenancy.context import org_context

from .conftest import ON_POSTGRES, World

AMARA = {
    "prs_FirstName": "Amara",
    "prs_SecondName": "Okafor",
    "prs_Birthdate": "1999-04-02",
    "prs_IdentityNumber": "X123 456",
    "prs_MobilePhone": "+44 7700 900123",
}


def _person(**values: object) -> Person:
    person = Person(**values)
    person.save()
    return person


def test_each_kind_of_key_finds_the_existing_person_who_has_it(world: World) -> None:
    with org_context(world.a):
        by_document = _person(identity_number="x123-456")
        by_phone = _person(mobile_phone="07700 900123")
        by_names = _person(first_name="AMARA", second_name="okafor", birthdate=date(1999, 4, 2))
        _person(first_name="Amara", second_name="Okafor", birthdate=date(1999, 4, 3))
        (found,) = matching_people_in_batch([AMARA])
    assert dict(found) == {
        str(by_document.pk): "same identity number",
        str(by_phone.pk): "same mobile phone",
        str(by_names.pk): "same names and date of birth",
    }


def test_names_without_the_same_date_of_birth_do_not_match(world: World) -> None:
    with org_context(world.a):
        _person(first_name="Amara", second_name="Okafor", birthdate=date(1999, 4, 3))
        _person(first_name="Amara", second_name="Obi", birthdate=date(1999, 4, 2))
        (found,) = matching_people_in_batch([AMARA])
    assert found == []


def test_people_merged_into_another_are_not_matched(world: World) -> None:
    with org_context(world.a):
        survivor = _person(first_name="Kim")
        _person(mobile_phone="+44 7700 900123", merged_into=survivor)
        (found,) = matching_people_in_batch([{"prs_MobilePhone": "+447700900123"}])
    assert found == []


def test_people_of_another_organisation_are_not_matched_even_with_equal_indexes(
    world: World,
) -> None:
    with org_context(world.b):
        other = _person(mobile_phone="+44 7700 900123", identity_number="X123456")
        keys = {
            ("phone", (other.mobile_phone_index,)),
            ("document", (other.identity_number_index,)),
        }
    with org_context(world.a):
        assert stored_matches(keys) == {}
    with org_context(world.b):
        assert set(stored_matches(keys).values()) == {str(other.pk)}


def test_later_people_of_a_batch_match_earlier_ones_and_existing_people_first(
    world: World,
) -> None:
    with org_context(world.a):
        existing = _person(mobile_phone="+44 7700 900999")
        first, second, third = matching_people_in_batch(
            [
                {"prs_MobilePhone": "+44 7700 900123"},
                {"prs_MobilePhone": "07700900123", "prs_IdentityNumber": "Q1"},
                {"prs_MobilePhone": "+447700900999", "prs_IdentityNumber": "q-1"},
            ]
        )
    assert first == []
    assert second == [("#1 of this batch", "same mobile phone")]
    assert third == sorted(
        [(str(existing.pk), "same mobile phone"), ("#2 of this batch", "same identity number")]
    )


def test_people_without_any_key_match_nobody(world: World) -> None:
    with org_context(world.a):
        _person(first_name="Amara")
        assert matching_indexes_in_batch([("", "", "", "", ""), ("", "", "x", "", "")]) == [[], []]


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL: set TESSERA_TEST_POSTGRES")
def test_the_application_role_refreshes_statistics_of_people_as_the_table_grows(
    world: World,
) -> None:
    from django.db import connection
    from django.utils import timezone

    from tessera.exchange.row_writer import insert_rows
    from tessera.vault.bulk import new_row_ids

    def analysed_pages() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relpages FROM pg_class WHERE oid = 'cases_person'::regclass")
            return int(cursor.fetchone()[0])

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, has_function_privilege('public', "
            "'tessera_analyze_people()', 'execute')"
        )
        role, public_may = cursor.fetchone()
    assert role != "postgres" and not public_may
    with org_context(world.a):
        before = analysed_pages()
        rows = [{"id": row_id, "gender": "Feminine"} for row_id in new_row_ids(2000)]
        insert_rows(Person, rows, now=timezone.now())
        keep_statistics_fresh()
        grown = analysed_pages()
        keep_statistics_fresh()
        assert analysed_pages() == grown
    assert grown > max(before, 8)
