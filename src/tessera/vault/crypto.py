"""AES-256-GCM sealing with associated data. Format: version byte ‖ 96-bit nonce ‖ ciphertext+tag."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32


class VaultError(Exception):
    """A value could not be sealed or opened."""


class TamperedError(VaultError):
    """The ciphertext, or the row, table, column or organisation it is bound to, is not the original."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    return seal_with_cipher(AESGCM(key), plaintext, associated_data)


def seal_with_cipher(cipher: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    """`seal` with a cipher already set up for its key (bulk sealing reuses one per key)."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + cipher.encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != VERSION:
        raise TamperedError("Not a Tessera ciphertext (wrong version or too short).")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, sealed[1 + NONCE_BYTES :], associated_data)
    except InvalidTag as exc:
        raise TamperedError("Ciphertext does not authenticate for this row and column.") from exc
