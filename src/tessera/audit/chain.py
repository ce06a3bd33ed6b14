"""The canonical serialisation and hash of an audit event. Pure functions, shared by record and verify."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
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


def canonical(values: Sequence[Any]) -> bytes:
    """Serialise an event's hashed columns (in HASHED_COLUMNS order) unambiguously."""
    normalised = [
        value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value
        for value in values
    ]
    return json.dumps(normalised, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(values: Sequence[Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()
