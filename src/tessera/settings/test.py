"""Test settings: SQLite in memory, or the PostgreSQL named by TESSERA_TEST_POSTGRES."""

from __future__ import annotations

import os

import dj_database_url

from tessera.settings.base import *  # noqa: F403
from tessera.settings.env import postgres_connection_options

SECRET_KEY = "test-only-secret-key-not-for-any-deployment"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

_postgres_url = os.environ.get("TESSERA_TEST_POSTGRES", "")
if _postgres_url:
    DATABASES = {"default": dj_database_url.parse(_postgres_url)}
    postgres_connection_options(DATABASES["default"])
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Argon2 is deliberately slow; tests exercise hashing through a fast hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False  # enabled explicitly by the lockout tests
# False, not {}: allauth reads an empty dict as "use the defaults", whose counters live in the
# cache and so would carry over from one test to the next.
ACCOUNT_RATE_LIMITS = False

# A fixed test master key (32 zero-free bytes, base64) so tests never touch the filesystem.
TESSERA_MASTER_KEY = "dGVzc2VyYS10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXM="
TESSERA_PREVIOUS_MASTER_KEYS = []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
# Static files come from the apps' folders (WhiteNoise's finders); there is nothing collected.
STATIC_ROOT = None  # type: ignore[assignment]
# /report/ files into the first organisation that every test world creates.
TESSERA_REPORT_DEFAULT_ORG = "alpha"
