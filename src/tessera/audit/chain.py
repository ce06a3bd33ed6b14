"""The canonical serialisation and hash of an audit event, shared by record() and verification.

The serialisation is the hashed columns' text forms (timestamps as UTC 'YYYY-MM-DD HH:MM:SS.ffffff',
the touched-field list as its JSON text, NULL as empty) joined by the record separator U+001E, which
record() never lets into a value. Both databases can build exactly this string themselves, so
verification only hashes what the cursor returns: that is what lets it check hundreds of thousands
of events per second.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

HASHED_COLUMNS = (
    "org_id",
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "fields",
    "ip",
    "reason",
    "prev_hash",
)
AT = HASHED_COLUMNS.index("at")
FIELDS = HASHED_COLUMNS.index("fields")

FIELD_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def at_text(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def fields_text(fields: Iterable[str]) -> str:
    """The JSON text both SQLite and PostgreSQL (jsonb) return for a list of plain field names."""
    names = sorted(set(fields))
    for name in names:
        if not FIELD_NAME.match(name):
            raise ValueError(f"Audit field names are identifiers, not {name!r}.")
    return json.dumps(names)


SEPARATOR = "\x1e"


def clean_text(value: str) -> str:
    """Keep the separator out of free text, so no value can shift the boundary between two others."""
    return value.replace(SEPARATOR, "\ufffd")


def canonical_text(values: Sequence[object]) -> str:
    return SEPARATOR.join("" if value is None else str(value) for value in values)


def canonical(values: Sequence[object]) -> bytes:
    return canonical_text(values).encode()


def event_hash(values: Sequence[object]) -> str:
    """Hash the HASHED_COLUMNS values, with `at` and `fields` already in their text forms."""
    return hashlib.sha256(canonical(values)).hexdigest()


def hashed_values(event: Any) -> list[object]:
    """The values of an AuditEvent (or any object with the same attributes), ready to hash."""
    values: list[object] = [getattr(event, column) for column in HASHED_COLUMNS]
    values[AT] = at_text(event.at)
    values[FIELDS] = fields_text(event.fields)
    return values
