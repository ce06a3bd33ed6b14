"""Field encryption, binding of ciphertexts to their place, blind indexes, shredding and rotation."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from tessera.cases.models import Person
from tessera.tenancy.context import org_context
from tessera.vault import keyring
from tessera.vault.crypto import TamperedError, new_key, open_sealed, seal
from tessera.vault.fields import Sealed, index_for
from tessera.vault.keys import SubjectErasedError, clear_key_caches, shred_subject
from tessera.vault.models import OrgKey, SubjectKey
from tessera.vault.normalise import normalise_document, normalise_name, normalise_phone
from tessera.vault.rotation import rotate_master_key

from .conftest import World


def raw_column(person: Person, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM cases_person WHERE id = %s",
            [person.pk.hex if connection.vendor == "sqlite" else person.pk],
        )
        return bytes(cursor.fetchone()[0])


def reload(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


def test_sealed_values_round_trip_and_are_not_stored_in_clear(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(
            first_name="Zoë",
            second_name="Ōkawa-Smith",
            birthdate=date(1990, 2, 3),
            mobile_phone="07700 900123",
        )
        stored = raw_column(person, "prs_first_name")
        assert b"Zo" not in stored and len(stored) > 28
        again = reload(person)
        assert isinstance(again.__dict__["first_name"], Sealed)
        assert again.first_name == "Zoë"
        assert again.birthdate == date(1990, 2, 3)
        assert again.mobile_phone == "07700 900123"


def test_empty_values_are_stored_as_null(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="", middle_name=None)
        again = reload(person)
        assert again.first_name is None and again.middle_name is None
        assert again.first_name_index == ""


def test_ciphertext_copied_to_another_row_does_not_open(world: World) -> None:
    with org_context(world.a):
        victim = Person.objects.create(first_name="Secret")
        other = Person.objects.create(first_name="Other")
        stolen = raw_column(victim, "prs_first_name")
        Person.objects.filter(pk=other.pk).update(first_name=stolen)
        with pytest.raises(TamperedError):
            _ = reload(other).first_name


def test_ciphertext_copied_to_another_column_does_not_open(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Secret", second_name="Other")
        Person.objects.filter(pk=person.pk).update(second_name=raw_column(person, "prs_first_name"))
        with pytest.raises(TamperedError):
            _ = reload(person).second_name


def test_each_organisation_has_its_own_data_and_index_keys(world: World) -> None:
    with org_context(world.a):
        key_a = OrgKey.objects.get()
        index_a = index_for("name", "Maria")
    with org_context(world.b):
        key_b = OrgKey.objects.get()
        index_b = index_for("name", "Maria")
    assert bytes(key_a.wrapped_data_key) != bytes(key_b.wrapped_data_key)
    assert index_a != index_b and len(index_a) == 32


def test_blind_index_finds_exact_matches_after_normalisation(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(
            first_name="José",
            mobile_phone="+44 7700 900123",
            identity_number="ab-123 456",
            birthdate="1990-02-03",
        )
        assert Person.objects.get(first_name_index=index_for("name", "  JOSE ")) == person
        assert Person.objects.get(mobile_phone_index=index_for("phone", "07700 900123")) == person
        assert Person.objects.get(identity_number_index=index_for("document", "AB123456")) == person
        assert Person.objects.get(birthdate_index=index_for("dob", date(1990, 2, 3))) == person
        assert not Person.objects.filter(first_name_index=index_for("name", "Josefa")).exists()


def test_blind_index_follows_changes(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Ana")
        person = reload(person)
        person.first_name = "Anna"
        person.save()
        assert not Person.objects.filter(first_name_index=index_for("name", "Ana")).exists()
        assert Person.objects.filter(first_name_index=index_for("name", "Anna")).exists()


def test_saving_an_unread_row_keeps_its_ciphertext_and_index(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Ana")
        before = raw_column(person, "prs_first_name")
        loaded = reload(person)
        loaded.deceased = True
        loaded.save()
        assert raw_column(person, "prs_first_name") == before
        assert reload(person).first_name_index == index_for("name", "Ana")


def test_normalisers() -> None:
    assert normalise_name("  Ångström-Çelik ") == "angstrom celik"
    assert normalise_name("ИВАН Петров") == "иван петров"
    assert normalise_phone("07700 900123", "GB") == "+447700900123"
    assert normalise_phone("not a phone") == ""
    assert normalise_document("ab 12-34") == "AB1234"


def test_blind_indexes_refuse_low_cardinality_kinds(world: World) -> None:
    from tessera.vault.blind import blind_index

    with org_context(world.a), pytest.raises(ValueError, match="only for"):
        blind_index("gender", "Feminine")


def test_shredding_a_subject_makes_their_values_unreadable_forever(world: World) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Erase me")
        keep = Person.objects.create(first_name="Keep me")
        assert shred_subject(person.pk) is True
        clear_key_caches()
        with pytest.raises(SubjectErasedError):
            _ = reload(person).first_name
        assert reload(keep).first_name == "Keep me"
        assert not SubjectKey.objects.filter(subject_id=person.pk).exists()
        assert shred_subject(uuid.uuid4()) is False


def test_sealing_primitives_reject_wrong_key_and_context() -> None:
    key = new_key()
    sealed = seal(key, b"value", b"ctx")
    assert open_sealed(key, sealed, b"ctx") == b"value"
    with pytest.raises(TamperedError):
        open_sealed(key, sealed, b"other ctx")
    with pytest.raises(TamperedError):
        open_sealed(new_key(), sealed, b"ctx")
    with pytest.raises(TamperedError):
        open_sealed(key, b"\x02" + sealed[1:], b"ctx")
    with pytest.raises(TamperedError):
        open_sealed(key, sealed[:10], b"ctx")


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_rotation_in_environment_mode_rewraps_every_org_and_keeps_data_readable(
    world: World,
) -> None:
    with org_context(world.a):
        person = Person.objects.create(first_name="Still readable")
    old_key = keyring.load_keyring().current.key
    new = new_key()
    with override_settings(
        TESSERA_MASTER_KEY=_b64(new), TESSERA_PREVIOUS_MASTER_KEYS=[_b64(old_key)]
    ):
        keyring.load_keyring.cache_clear()
        try:
            summary = rotate_master_key()
            assert "Re-wrapped 2 organisation key set(s)" in summary
            new_id = keyring.load_keyring().current.key_id
            for org in (world.a, world.b):
                with org_context(org):
                    assert OrgKey.objects.get().master_key_id == new_id
            # Only the new key is needed from now on.
            with override_settings(TESSERA_PREVIOUS_MASTER_KEYS=[]):
                keyring.load_keyring.cache_clear()
                clear_key_caches()
                with org_context(world.a):
                    assert reload(person).first_name == "Still readable"
        finally:
            keyring.load_keyring.cache_clear()
    keyring.load_keyring.cache_clear()


def test_rotation_without_the_old_key_fails_clearly_and_changes_nothing(world: World) -> None:
    with org_context(world.a):
        before = bytes(OrgKey.objects.get().wrapped_data_key)
    with override_settings(TESSERA_MASTER_KEY=_b64(new_key()), TESSERA_PREVIOUS_MASTER_KEYS=[]):
        keyring.load_keyring.cache_clear()
        try:
            with pytest.raises(Exception, match="not in the keyring"):
                rotate_master_key()
        finally:
            keyring.load_keyring.cache_clear()
    with org_context(world.a):
        assert bytes(OrgKey.objects.get().wrapped_data_key) == before


def test_rotation_with_a_key_file_generates_a_new_key(world: World, tmp_path: Path) -> None:
    key_file = tmp_path / "master.keys"
    old = keyring.load_keyring().current.key
    keyring.write_key_file(key_file, old, [])
    with override_settings(TESSERA_MASTER_KEY="", TESSERA_MASTER_KEY_FILE=str(key_file)):
        keyring.load_keyring.cache_clear()
        try:
            rotate_master_key(prune=True)
            ring = keyring.load_keyring()
            assert ring.current.key != old and ring.previous == ()
            assert oct(key_file.stat().st_mode & 0o777) == "0o600"
            clear_key_caches()
            with org_context(world.b):
                Person.objects.create(first_name="after rotation")
                assert Person.objects.get().first_name == "after rotation"
        finally:
            keyring.load_keyring.cache_clear()


def test_bad_master_keys_are_reported_clearly(tmp_path: Path) -> None:
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not valid base64"):
        keyring.decode_key("***", "TESSERA_MASTER_KEY")
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        keyring.decode_key(_b64(b"short"), "TESSERA_MASTER_KEY")
    broken = tmp_path / "master.keys"
    broken.write_text("{not json")
    with override_settings(TESSERA_MASTER_KEY="", TESSERA_MASTER_KEY_FILE=str(broken)):
        keyring.load_keyring.cache_clear()
        try:
            with pytest.raises(ImproperlyConfigured, match="not a Tessera key file"):
                keyring.load_keyring()
        finally:
            keyring.load_keyring.cache_clear()


def _current_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_totp_secrets_are_sealed_and_survive_rotation_and_pruning(
    world: World, tmp_path: Path
) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from .conftest import TOTP_SECRET

    user = world.user(world.a, "caseworker")
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    stored = authenticator.data["secret"]
    assert TOTP_SECRET not in stored
    assert stored.startswith("tsv1:")
    assert TOTP(authenticator).validate_code(_current_code(TOTP_SECRET))

    key_file = tmp_path / "master.keys"
    keyring.write_key_file(key_file, keyring.load_keyring().current.key, [])
    with override_settings(TESSERA_MASTER_KEY="", TESSERA_MASTER_KEY_FILE=str(key_file)):
        keyring.load_keyring.cache_clear()
        try:
            summary = rotate_master_key(prune=True)
            assert "re-sealed" in summary
            authenticator.refresh_from_db()
            assert authenticator.data["secret"] != stored
            assert keyring.load_keyring().previous == ()
            # Another code than the one used above: allauth refuses a code twice.
            from django.core.cache import cache

            cache.clear()
            assert TOTP(authenticator).validate_code(_current_code(TOTP_SECRET))
        finally:
            keyring.load_keyring.cache_clear()
