"""Subject keys for many new rows at once (bulk imports): one INSERT per batch instead of one per
row. The keys are cached only once the transaction commits, as `subject_key` does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction

from tessera.tenancy.context import require_org
from tessera.vault.crypto import new_key, seal
from tessera.vault.fields import KEYS_THIS_SAVE
from tessera.vault.keys import _subject_context, _subject_keys, org_keys
from tessera.vault.models import SubjectKey


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
