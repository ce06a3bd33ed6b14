"""Data keys, blind-index keys and subject keys: creation, unwrapping (cached), rotation, shredding."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from tessera.tenancy.context import org_context, require_org
from tessera.tenancy.models import Organisation
from tessera.vault.crypto import new_key, open_sealed, seal
from tessera.vault.keyring import Keyring, find_master_key, load_keyring
from tessera.vault.models import OrgKey, SubjectKey


class SubjectErasedError(LookupError):
    """The data subject's key was destroyed: their sealed values can never be read again."""


@dataclass(frozen=True)
class OrgKeys:
    data_key: bytes
    index_key: bytes


def _wrap_context(org_id: int, purpose: str) -> bytes:
    return f"tessera:v1|org-key|{org_id}|{purpose}".encode()


def _subject_context(org_id: int, subject_id: uuid.UUID | str) -> bytes:
    return f"tessera:v1|subject-key|{org_id}|{subject_id}".encode()


class _TTLCache:
    """Unwrapped keys, briefly: long enough to serve a request, short enough that a key destroyed in
    another process stops working there soon after."""

    def __init__(self, max_items: int, ttl_seconds: float) -> None:
        self._items: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._max = max_items
        self._ttl = ttl_seconds
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def drop(self, key: object) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_org_keys = _TTLCache(max_items=1_000, ttl_seconds=300)
_subject_keys = _TTLCache(max_items=50_000, ttl_seconds=60)


def clear_key_caches() -> None:
    _org_keys.clear()
    _subject_keys.clear()


def create_org_keys(org: Organisation) -> OrgKey:
    """Create the organisation's data and index keys (called when the organisation is created)."""
    keyring = load_keyring()
    with org_context(org):
        row = OrgKey(
            wrapped_data_key=seal(keyring.current.key, new_key(), _wrap_context(org.pk, "data")),
            wrapped_index_key=seal(keyring.current.key, new_key(), _wrap_context(org.pk, "index")),
            master_key_id=keyring.current.key_id,
        )
        row.save()
    return row


def org_keys() -> OrgKeys:
    """The current organisation's unwrapped keys."""
    org = require_org()
    cached = _org_keys.get(org.pk)
    if isinstance(cached, OrgKeys):
        return cached
    row = OrgKey.objects.filter().first()
    if row is None:
        row = create_org_keys(org)
    master = find_master_key(row.master_key_id)
    keys = OrgKeys(
        data_key=open_sealed(
            master.key, bytes(row.wrapped_data_key), _wrap_context(org.pk, "data")
        ),
        index_key=open_sealed(
            master.key, bytes(row.wrapped_index_key), _wrap_context(org.pk, "index")
        ),
    )
    _org_keys.put(org.pk, keys)
    return keys


def subject_key(subject_id: uuid.UUID, *, create: bool, is_new: bool = False) -> bytes:
    """The subject's unwrapped key; created on first write, SubjectErasedError once destroyed.

    `is_new` (the subject's row is being inserted) skips looking for a key that cannot exist yet.
    """
    org = require_org()
    cache_key = (org.pk, subject_id)
    cached = _subject_keys.get(cache_key)
    if isinstance(cached, bytes):
        return cached
    data_key = org_keys().data_key
    context = _subject_context(org.pk, subject_id)
    row = None if is_new else SubjectKey.objects.filter(subject_id=subject_id).first()
    if row is not None:
        key = open_sealed(data_key, bytes(row.wrapped_key), context)
        _subject_keys.put(cache_key, key)
        return key
    if not create:
        raise SubjectErasedError(f"No key for data subject {subject_id}: erased or never sealed.")
    key = new_key()
    SubjectKey.objects.create(subject_id=subject_id, wrapped_key=seal(data_key, key, context))
    # Cached only once committed: a key whose row rolled back must never seal anything again.
    transaction.on_commit(lambda: _subject_keys.put(cache_key, key))
    return key


def prefetch_subject_keys(subject_ids: Iterable[uuid.UUID]) -> None:
    """Unwrap many subjects' keys with one query per 500, so a list of people costs no N+1."""
    org = require_org()
    missing = [s for s in set(subject_ids) if _subject_keys.get((org.pk, s)) is None]
    if not missing:
        return
    data_key = org_keys().data_key
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        for row in SubjectKey.objects.filter(subject_id__in=chunk).only(
            "subject_id", "wrapped_key"
        ):
            context = _subject_context(org.pk, row.subject_id)
            _subject_keys.put(
                (org.pk, row.subject_id), open_sealed(data_key, bytes(row.wrapped_key), context)
            )


def shred_subject(subject_id: uuid.UUID) -> bool:
    """Destroy a data subject's key (crypto-shredding). True if a key existed."""
    org = require_org()
    deleted, _ = SubjectKey.objects.filter(subject_id=subject_id).delete()
    _subject_keys.drop((org.pk, subject_id))
    return deleted > 0


def rewrap_org_keys(keyring: Keyring | None = None) -> int:
    """Re-wrap every organisation's keys under the keyring's current master key.

    Each organisation is re-wrapped in its own transaction; readers holding either the old or the new
    wrapping keep working throughout, because the keyring still holds the previous master key.
    Returns how many key sets were re-wrapped.
    """
    keyring = keyring or load_keyring()
    count = 0
    for org in Organisation.objects.order_by("pk"):
        with org_context(org):
            row = OrgKey.objects.select_for_update().filter().first()
            if row is None or row.master_key_id == keyring.current.key_id:
                continue
            old = keyring.find(row.master_key_id)
            for column, purpose in (("wrapped_data_key", "data"), ("wrapped_index_key", "index")):
                context = _wrap_context(org.pk, purpose)
                plain = open_sealed(old.key, bytes(getattr(row, column)), context)
                setattr(row, column, seal(keyring.current.key, plain, context))
            row.master_key_id = keyring.current.key_id
            row.rewrapped_at = timezone.now()
            row.save(
                update_fields=[
                    "wrapped_data_key",
                    "wrapped_index_key",
                    "master_key_id",
                    "rewrapped_at",
                ]
            )
            count += 1
    return count
