"""Django settings for b2binvoice, read from environment variables.

Without ``SECRET_KEY`` in the environment the app runs in *development mode*:
``DEBUG`` and the B2Brouter simulator default to on and a random secret key is
generated once and kept in the data folder. Production sets ``SECRET_KEY``
(and ``FIELD_ENCRYPTION_KEYS``), which turns both defaults off.
See the configuration table in the README.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("B2BINVOICE_DATA_DIR", BASE_DIR / "data")).resolve()

PRODUCTION = bool(os.environ.get("SECRET_KEY"))
if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = DATA_DIR / ".secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

DEBUG = env_bool("DEBUG", not PRODUCTION)
SIMULATOR_ENABLED = env_bool("SIMULATOR_ENABLED", not PRODUCTION)
PORT = int(os.environ.get("PORT", "8000"))
# Where the app reaches the simulator it hosts itself (the "local simulator" environment).
SIMULATOR_BASE_URL = os.environ.get("SIMULATOR_BASE_URL", f"http://127.0.0.1:{PORT}/sim")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" + ("" if PRODUCTION else ",testserver"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Fernet keys for secrets at rest (the B2Brouter API key). The first key encrypts;
# all keys decrypt, so keys can be rotated by prepending a new one.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [
    base64.urlsafe_b64encode(hashlib.sha256(("b2binvoice-fernet:" + SECRET_KEY).encode()).digest()).decode()
]
FIELD_ENCRYPTION_KEYS_FROM_ENV = bool(env_list("FIELD_ENCRYPTION_KEYS"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "b2binvoice.core",
    "b2binvoice.companies",
    "b2binvoice.clients",
    "b2binvoice.invoices",
    "b2binvoice.einvoicing",
]
if SIMULATOR_ENABLED:
    INSTALLED_APPS.append("b2brouter_sim")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "b2binvoice.companies.middleware.CurrentCompanyMiddleware",
]

ROOT_URLCONF = "b2binvoice.urls"
WSGI_APPLICATION = "b2binvoice.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "b2binvoice" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "b2binvoice.companies.context_processors.current_company",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'b2binvoice.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or _default_db
if DATABASE_URL.startswith("sqlite"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The app calls the simulator it hosts over HTTP from another thread: WAL lets
    # readers and one writer work side by side, IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Madrid")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "static")).resolve()
if not PRODUCTION:
    # Development serves static files from the apps (WHITENOISE_USE_FINDERS); production runs collectstatic.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "invoices:list"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
if PRODUCTION and not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background work: the Django Tasks API. The database queue is embedded
# (run `b2binvoice db_worker`); TASKS_BACKEND=rq with REDIS_URL switches to RQ for scale-out
# (run `b2binvoice rqworker --with-scheduler default`).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database")
if TASKS_BACKEND == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
elif TASKS_BACKEND == "rq":
    # django-tasks-rq stores tasks through django-rq: its app brings the `rqworker` command (and the
    # backend's system check requires it), RQ_QUEUES names the Redis of each Tasks queue, and the
    # worker must load jobs with django_tasks_rq.Job, as RQ's own Job cannot call a Task.
    RQ_QUEUES = {"default": {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
    RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# B2Brouter client defaults (overridable for slow links).
B2BROUTER_TIMEOUT = float(os.environ.get("B2BROUTER_TIMEOUT", "20"))
B2BROUTER_MAX_RETRIES = int(os.environ.get("B2BROUTER_MAX_RETRIES", "2"))
# Received webhook notifications are kept this long (to de-duplicate retried deliveries).
B2BROUTER_WEBHOOK_EVENTS_DAYS = int(os.environ.get("B2BROUTER_WEBHOOK_EVENTS_DAYS", "90"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "b2binvoice.core.logging.RedactWebhookTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every django.* line a second time (via root).
        "django": {"handlers": []},
        # Both log request paths; the webhook receiver's path carries a company's token.
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {"handlers": ["console"], "filters": ["redact_tokens"], "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
