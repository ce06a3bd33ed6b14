"""Settings shared by every deployment shape. Everything variable comes from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import dj_database_url
from django.utils.translation import gettext_lazy as _

from tessera.settings.env import (
    data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    postgres_connection_options,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

DEBUG = env_bool("TESSERA_DEBUG", False)
ALLOWED_HOSTS = env_list("TESSERA_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("TESSERA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so that its templates override allauth's (layout, login page).
    "tessera.web",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "csp",
    "django_htmx",
    # Listed so that the API docs page uses its bundled Swagger UI, not the one from a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "tessera.tenancy",
    "tessera.accounts",
    "tessera.audit",
    "tessera.vault",
    "tessera.cases",
    "tessera.releases",
    "tessera.consent",
    "tessera.exchange",
    "tessera.helpline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tessera.accounts.language.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After MessageMiddleware: ending a session tells the user why, with a message.
    "tessera.accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tessera.web.csp.CachedPolicyCSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "tessera.tenancy.middleware.OrgMiddleware",
    "tessera.accounts.middleware.RequireMFAMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tessera.urls"
WSGI_APPLICATION = "tessera.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Our overrides of allauth's layouts must win over allauth's own, which APP_DIRS would
        # find first (allauth is listed before tessera.web).
        "DIRS": [PACKAGE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "tessera.tenancy.context_processors.current_org",
            ],
        },
    },
]

# --- Database: SQLite in the data directory unless DATABASE_URL names another. ---
_default_sqlite = f"sqlite:///{DATA_DIR / 'tessera.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_sqlite),
        conn_max_age=env_int("TESSERA_DB_CONN_MAX_AGE", 0, minimum=0),
    )
}
postgres_connection_options(DATABASES["default"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }

# The PostgreSQL role the application runs as; it must not own tables nor bypass row-level security.
# Migrations connect as the owner (TESSERA_MIGRATION_DATABASE_URL) and grant this role what it needs.
TESSERA_APP_DB_ROLE = env_str("TESSERA_APP_DB_ROLE", "tessera_app")

# --- Authentication ---
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ALLOW_SIGNUPS = (
    False  # read by tessera.accounts.adapters: staff accounts are created by admins
)
ACCOUNT_ADAPTER = "tessera.accounts.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
# allauth: False switches every limit off; a dict (even an empty one) is merged into its defaults.
ACCOUNT_RATE_LIMITS: dict[str, str] | Literal[False] = {"login_failed": "10/m/ip,5/5m/key"}
MFA_ADAPTER = "tessera.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Tessera"
# One 30-second step back (RFC 6238 section 5.2): a code typed just before its window closes, on a slow
# connection or a drifting phone clock, still works; older codes do not.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("TESSERA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
MFA_RECOVERY_CODE_COUNT = 10

AXES_FAILURE_LIMIT = env_int("TESSERA_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "tessera.accounts.lockout.login_name"
# The same client address as the report-form rate limits (honours TESSERA_TRUST_X_FORWARDED_FOR).
AXES_CLIENT_IP_CALLABLE = "tessera.tenancy.middleware.client_ip"

# --- Sessions: 30 minutes idle, 12 hours absolute (enforced by SessionTimeoutMiddleware). ---
TESSERA_SESSION_IDLE_SECONDS = env_int("TESSERA_SESSION_IDLE_SECONDS", 30 * 60)
TESSERA_SESSION_ABSOLUTE_SECONDS = env_int("TESSERA_SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_AGE = TESSERA_SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("TESSERA_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("es", _("Spanish")), ("ar", _("Arabic"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static files: served by WhiteNoise from the package; no CDN anywhere. ---
STATIC_URL = "/static/"
STATIC_ROOT = env_str("TESSERA_STATIC_ROOT", str(DATA_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Background tasks: Django's task framework (backport) on the database backend. ---
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Vault ---
# A base64 32-byte master key; when absent, the key file in the data directory (created by
# `tessera demo` for the embedded default). Earlier keys stay readable during rotation.
TESSERA_MASTER_KEY = env_str("TESSERA_MASTER_KEY", "")
TESSERA_PREVIOUS_MASTER_KEYS = env_list("TESSERA_PREVIOUS_MASTER_KEYS", [])
TESSERA_MASTER_KEY_FILE = env_str("TESSERA_MASTER_KEY_FILE", str(DATA_DIR / "master.keys"))
# Worker processes that build and seal the rows of a large import (0: one per core, at most 4).
TESSERA_IMPORT_WORKERS = env_int("TESSERA_IMPORT_WORKERS", 0)
# An import that did not finish (failed, has errors, only dry-run, or abandoned) keeps its sealed
# copy of the uploaded file this long after its last change; `tessera exchange purge-uploads`
# then destroys it.
TESSERA_IMPORT_UPLOAD_RETENTION_HOURS = env_int(
    "TESSERA_IMPORT_UPLOAD_RETENTION_HOURS", 72, minimum=1
)

# --- Helpline ---
# An urgent contact nobody has taken for this long raises an alert.
TESSERA_HELPLINE_URGENT_WAIT_MINUTES = env_int("TESSERA_HELPLINE_URGENT_WAIT_MINUTES", 10)
# The organisation that receives reports sent to /report/ (without a slug); empty: none.
TESSERA_REPORT_DEFAULT_ORG = env_str("TESSERA_REPORT_DEFAULT_ORG", "")
# Public reports allowed per (count, seconds): per client address, and per receiving organisation.
TESSERA_REPORT_RATE_PER_IP = (env_int("TESSERA_REPORT_RATE_PER_IP", 10), 3600)
TESSERA_REPORT_RATE_PER_ORG = (env_int("TESSERA_REPORT_RATE_PER_ORG", 1000), 3600)
# Behind a reverse proxy every client has the proxy's address: trust the address the proxy appends
# to X-Forwarded-For (only when one proxy sits in front and sets it) so that the per-client limits
# and the login lockout count clients, not the proxy.
TESSERA_TRUST_X_FORWARDED_FOR = env_bool("TESSERA_TRUST_X_FORWARDED_FOR", False)
# Rate limits live in the cache: one process may use the default in-memory cache; several
# processes must share one (Redis), or each would count alone.
if env_str("TESSERA_CACHE_URL", ""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("TESSERA_CACHE_URL", ""),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("TESSERA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- API ---
NINJA_PAGINATION_PER_PAGE = 25
NINJA_PAGINATION_MAX_LIMIT = 100
