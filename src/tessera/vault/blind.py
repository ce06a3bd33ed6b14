"""Keyed blind indexes (HMAC-SHA256, truncated) for exact search over sealed values.

Only for high-cardinality values (names, phone numbers, dates of birth, document numbers): an index
over a low-cardinality field (gender, nationality) would reveal it by frequency.
"""

from __future__ import annotations

import hashlib
import hmac

from tessera.vault.keys import org_keys

INDEX_BYTES = 16
KINDS = frozenset({"name", "phone", "dob", "document"})


def blind_index(kind: str, normalised: str) -> str:
    """The current organisation's index of an already-normalised value ('' for an empty value)."""
    if kind not in KINDS:
        raise ValueError(f"Blind indexes are only for {sorted(KINDS)}, not {kind!r}.")
    if not normalised:
        return ""
    return keyed_index(index_mac(org_keys().index_key), kind, normalised)


def index_mac(index_key: bytes) -> hmac.HMAC:
    """An HMAC keyed with an organisation's index key, to be copied for each value."""
    return hmac.new(index_key, digestmod=hashlib.sha256)


def keyed_index(mac: hmac.HMAC, kind: str, normalised: str) -> str:
    """The index of an already-normalised value under `index_mac(...)` ('' for an empty value)."""
    if not normalised:
        return ""
    value = mac.copy()
    value.update(f"{kind}\x1f{normalised}".encode())
    return value.hexdigest()[: INDEX_BYTES * 2]
