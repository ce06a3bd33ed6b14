"""The embedded default: one process, SQLite and key files in TESSERA_DATA_DIR, plain HTTP on loopback."""

from __future__ import annotations

import secrets

from tessera.settings.base import *  # noqa: F403
from tessera.settings.base import DATA_DIR
from tessera.settings.env import env_bool, env_str


def _embedded_secret_key() -> str:
    # The embedded shape has no secret store; a per-installation key file beside the database
    # is the closest equivalent. Production reads TESSERA_SECRET_KEY only (see prod.py).
    path = DATA_DIR / "secret.key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("TESSERA_SECRET_KEY", "") or _embedded_secret_key()
DEBUG = env_bool("TESSERA_DEBUG", False)
SESSION_COOKIE_SECURE = env_bool("TESSERA_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
