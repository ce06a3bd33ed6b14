"""Sealing many new rows at once (bulk imports).

`create_subject_keys` and `seal_with` let `bulk_create` seal model instances with keys created in
one INSERT. `RowSealer` goes further for rows that never become model instances: it creates each
subject's key, seals values and computes blind indexes exactly as the model fields do on save()
(same associated data, same normalisers), from plain keys, so that it also runs in worker
processes that have no database connection.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import transaction

from tessera.tenancy.context import require_org
from tessera.vault.blind import index_mac, keyed_index
from tessera.vault.crypto import new_key, seal, seal_with_cipher
from tessera.vault.fields import KEYS_THIS_SAVE, NORMALISERS, associated_data
from tessera.vault.keys import _subject_context, _subject_keys, org_keys
from tessera.vault.models import SubjectKey
from tessera.vault.normalise import normalise_phone


def create_subject_keys(subject_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """New keys for subjects that have none yet (their rows are about to be inserted)."""
    org = require_org()
    data_key = org_keys().data_key
    keys = {subject: new_key() for subject in subject_ids}
    rows = [
        SubjectKey(
            org=org,
            subject_id=subject,
            wrapped_key=seal(data_key, key, _subject_context(org.pk, subject)),
        )
        for subject, key in keys.items()
    ]
    SubjectKey.objects.bulk_create(rows, batch_size=1000)

    def _cache() -> None:
        for subject, key in keys.items():
            _subject_keys.put((org.pk, subject), key)

    transaction.on_commit(_cache)
    return keys


def seal_with(instance: object, key: bytes) -> None:
    """Make the sealed fields of a new row (its own subject) use `key` in bulk_create."""
    instance.__dict__[KEYS_THIS_SAVE] = {instance.pk: key}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SealingKeys:
    """The current organisation's unwrapped keys and phone region: everything `RowSealer` needs.

    Plain data on purpose (it is handed to worker processes); it lives only as long as one import
    runs, like the cached keys of `org_keys`.
    """

    org_id: int
    data_key: bytes
    index_key: bytes
    phone_region: str


def sealing_keys() -> SealingKeys:
    org = require_org()
    keys = org_keys()
    return SealingKeys(org.pk, keys.data_key, keys.index_key, org.shipping_country or "")


def new_row_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as 32 hex digits, the form both databases accept.

    One call to the system's random source for all of them: per id, `uuid.uuid4()` and its
    conversions to text cost more than sealing a value does.
    """
    raw = os.urandom(16 * count).hex()
    ids = []
    for start in range(0, 32 * count, 32):
        digits = raw[start : start + 32]
        variant = "89ab"[int(digits[16], 16) & 3]
        ids.append(f"{digits[:12]}4{digits[13:16]}{variant}{digits[17:]}")
    return ids


def dashed(row_id: str) -> str:
    """The canonical text of a 32-hex-digit UUID (`str(uuid.UUID(row_id))`), which the
    associated data of sealed values and subject keys names."""
    return f"{row_id[:8]}-{row_id[8:12]}-{row_id[12:16]}-{row_id[16:20]}-{row_id[20:]}"


@dataclass(frozen=True)
class Subject:
    """A new data subject: its id, its key ready to seal with, and the key wrapped for storage."""

    row_id: str
    text_id: str
    cipher: AESGCM
    wrapped_key: bytes


class RowSealer:
    """Seals the values of new rows of one organisation, each row its own data subject."""

    def __init__(self, keys: SealingKeys) -> None:
        self.org_id = keys.org_id
        self._data_cipher = AESGCM(keys.data_key)
        self._index_mac = index_mac(keys.index_key)
        self._normalisers: dict[str, Callable[[Any], str]] = {
            **NORMALISERS,
            "phone": partial(normalise_phone, default_region=keys.phone_region or None),
        }

    def new_subject(self, row_id: str) -> Subject:
        """A fresh key for the subject whose row has id `row_id` (32 hex digits)."""
        key = new_key()
        text_id = dashed(row_id)
        wrapped = seal_with_cipher(self._data_cipher, key, _subject_context(self.org_id, text_id))
        return Subject(row_id, text_id, AESGCM(key), wrapped)

    def seal(self, subject: Subject, table: str, column: str, plaintext: bytes) -> bytes:
        """The value of `column` of the subject's own row in `table`, sealed as the field would."""
        ad = associated_data(self.org_id, table, column, subject.text_id)
        return seal_with_cipher(subject.cipher, plaintext, ad)

    def index(self, kind: str, value: Any) -> str:
        """The blind index of a field's value, as `BlindIndexField.pre_save` computes it."""
        normalised = "" if value in (None, "") else self._normalisers[kind](value)
        return keyed_index(self._index_mac, kind, normalised)
