"""Master keys: the current one wraps data keys; previous ones still unwrap during a rotation.

Keys come from TESSERA_MASTER_KEY (+ TESSERA_PREVIOUS_MASTER_KEYS), or, in the embedded shape, from
the key file in the data directory that `tessera demo` creates.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tessera.vault.crypto import KEY_BYTES, new_key


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"tessera-master-key-id" + self.key).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    def find(self, key_id: str) -> MasterKey:
        for candidate in (self.current, *self.previous):
            if candidate.key_id == key_id:
                return candidate
        raise ImproperlyConfigured(
            f"Master key {key_id} is not in the keyring: set it in TESSERA_PREVIOUS_MASTER_KEYS."
        )


def decode_key(encoded: str, source: str) -> MasterKey:
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{source} is not valid base64.") from exc
    if len(raw) != KEY_BYTES:
        raise ImproperlyConfigured(f"{source} must decode to {KEY_BYTES} bytes, not {len(raw)}.")
    return MasterKey(raw)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def key_file_path() -> Path:
    return Path(settings.TESSERA_MASTER_KEY_FILE)


@lru_cache(maxsize=1)
def load_keyring() -> Keyring:
    if settings.TESSERA_MASTER_KEY:
        current = decode_key(settings.TESSERA_MASTER_KEY, "TESSERA_MASTER_KEY")
        previous = tuple(
            decode_key(item, "TESSERA_PREVIOUS_MASTER_KEYS")
            for item in settings.TESSERA_PREVIOUS_MASTER_KEYS
        )
        return Keyring(current, previous)
    path = key_file_path()
    if not path.exists():
        raise ImproperlyConfigured(
            f"No master key: set TESSERA_MASTER_KEY, or run `tessera demo` to create {path}."
        )
    try:
        content = json.loads(path.read_text())
        current = decode_key(content["current"], str(path))
        previous = tuple(decode_key(item, str(path)) for item in content.get("previous", []))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ImproperlyConfigured(f"{path} is not a Tessera key file.") from exc
    return Keyring(current, previous)


def write_key_file(path: Path, current: bytes, previous: list[bytes]) -> None:
    """Write the embedded key file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    payload = {"current": encode_key(current), "previous": [encode_key(k) for k in previous]}
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle)
    temporary.replace(path)
    load_keyring.cache_clear()


def ensure_key_file() -> bool:
    """Create the embedded key file if neither it nor TESSERA_MASTER_KEY exists. True if created."""
    if settings.TESSERA_MASTER_KEY or key_file_path().exists():
        return False
    write_key_file(key_file_path(), new_key(), [])
    return True


def find_master_key(key_id: str) -> MasterKey:
    """The master key with this id, re-reading the key file once if another process rotated it."""
    try:
        return load_keyring().find(key_id)
    except ImproperlyConfigured:
        load_keyring.cache_clear()
        return load_keyring().find(key_id)
