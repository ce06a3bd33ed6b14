"""The secret of one linkage: shared by the organisations taking part, never by the linker."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from tessera.privacy.errors import PrivacyError

MIN_SECRET_BYTES = 32
KEY_FILE_VERSION = 1


@dataclass(frozen=True)
class LinkageKey:
    """A secret used to key every hash of one linkage (a fresh one per linkage)."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_BYTES:
            raise PrivacyError(f"linkage secret must be at least {MIN_SECRET_BYTES} bytes")

    @classmethod
    def generate(cls) -> LinkageKey:
        """A new random key."""
        return cls(secrets.token_bytes(MIN_SECRET_BYTES))

    def derive(self, purpose: str) -> bytes:
        """A sub-key for one purpose (a field, the permutation), so no two uses share a key."""
        return hmac.digest(self.secret, f"tessera-pprl/v1/{purpose}".encode(), hashlib.sha256)

    def save(self, path: Path) -> None:
        """Write the key file (JSON with the base64 secret); keep it out of the linker's hands."""
        text = json.dumps(
            {"version": KEY_FILE_VERSION, "secret": base64.b64encode(self.secret).decode()}
        )
        path.write_text(text + "\n", encoding="utf-8")
        path.chmod(0o600)

    @classmethod
    def load(cls, path: Path) -> LinkageKey:
        """Read a key file, naming the problem when it is missing or malformed."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PrivacyError(f"key file {path} not found") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PrivacyError(f"key file {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("version") != KEY_FILE_VERSION:
            raise PrivacyError(f"key file {path}: expected version {KEY_FILE_VERSION}")
        try:
            secret = base64.b64decode(str(data["secret"]), validate=True)
        except (KeyError, binascii.Error):
            raise PrivacyError(f"key file {path}: 'secret' is missing or not base64") from None
        if len(secret) < MIN_SECRET_BYTES:
            raise PrivacyError(
                f"key file {path}: secret has {len(secret)} bytes, at least {MIN_SECRET_BYTES} needed"
            )
        return cls(secret)
