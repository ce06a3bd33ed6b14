"""Production: PostgreSQL, secrets from the environment, HTTPS only. `tessera check --deploy` is clean."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from tessera.settings.base import *  # noqa: F403
from tessera.settings.base import DATABASES
from tessera.settings.env import env_bool, env_int, env_str

SECRET_KEY = env_str("TESSERA_SECRET_KEY")
TESSERA_MASTER_KEY = env_str("TESSERA_MASTER_KEY")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "Production settings need DATABASE_URL to name a PostgreSQL database."
    )

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = env_bool("TESSERA_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("TESSERA_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("TESSERA_HSTS_PRELOAD", True)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
