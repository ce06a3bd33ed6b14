"""Sealing small server-side secrets (e.g. TOTP seeds) under a key derived from the master key.

Format: "tsv1:<master key id>:<base64 ciphertext>". Values without the prefix are legacy plaintext
and are returned unchanged, so enabling this never locks anyone out; the next rotation seals them.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tessera.vault.crypto import open_sealed, seal
from tessera.vault.keyring import MasterKey, find_master_key, load_keyring

PREFIX = "tsv1"


def _derived(master: MasterKey, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"tessera:{purpose}".encode()
    ).derive(master.key)


def seal_secret(plaintext: str, *, purpose: str) -> str:
    master = load_keyring().current
    sealed = seal(_derived(master, purpose), plaintext.encode(), purpose.encode())
    return f"{PREFIX}:{master.key_id}:{base64.b64encode(sealed).decode()}"


def open_secret(value: str, *, purpose: str) -> str:
    prefix, _, rest = value.partition(":")
    if prefix != PREFIX:
        return value
    key_id, _, encoded = rest.partition(":")
    master = find_master_key(key_id)
    return open_sealed(
        _derived(master, purpose), base64.b64decode(encoded), purpose.encode()
    ).decode()


def is_sealed_under_current_key(value: str) -> bool:
    return value.startswith(f"{PREFIX}:{load_keyring().current.key_id}:")
