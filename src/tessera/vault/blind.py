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
    mac = hmac.new(org_keys().index_key, f"{kind}\x1f{normalised}".encode(), hashlib.sha256)
    return mac.hexdigest()[: INDEX_BYTES * 2]
