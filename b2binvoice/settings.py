"""Django settings for b2binvoice, read from environment variables.

Without ``SECRET_KEY`` in the environment the app runs in *development mode*:
``DEBUG`` and the B2Brouter simulator default to on and a random secret key is
generated once and kept in the data folder. Production sets ``SECRET_KEY``
(and ``FIELD_ENCRYPTION_KEYS``), which turns both defaults off.
See the configuration table in the README.
"""

from __future__ import annotations

import base64
import datetime
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


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


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
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "b2binvoice.core",
    "b2binvoice.companies",
    "b2binvoice.clients",
    "b2binvoice.invoices",
    "b2binvoice.einvoicing",
    "b2binvoice.home",
]
if SIMULATOR_ENABLED:
    INSTALLED_APPS.append("b2brouter_sim")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the visitor's choice (cookie) or the browser's Accept-Language; a logged-in
    # user's saved preference then wins (b2binvoice.core.language, after authentication).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # A NUL character in a query string or form field is 400, before a view hands it to the database.
    "b2binvoice.core.badinput.RejectNulCharactersMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "b2binvoice.core.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "b2binvoice.core.sessions.IdleSessionMiddleware",
    # Optional two-factor login (b2binvoice.core.twofactor): a user who turned it on reaches no page
    # but the code page until a code from the authenticator app is accepted.
    "django_otp.middleware.OTPMiddleware",
    "b2binvoice.core.twofactor.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "b2binvoice.companies.middleware.CurrentCompanyMiddleware",
    # Last, as django-axes requires: turns a refused (locked out) login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "b2binvoice.core.language.switcher_context",
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

# Django's four standard validators. They apply wherever a password is chosen (the password change
# page, the admin, createsuperuser, changepassword); the demo seed creates demo/demo directly.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 12)}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes, b2binvoice.core.logins): LOGIN_FAILURE_LIMIT failed logins for one
# account from one address, or LOGIN_IP_FAILURE_LIMIT from one address for any accounts, refuse
# further logins from there for LOGIN_COOLOFF_MINUTES after the last counted failure.
AUTHENTICATION_BACKENDS = [
    "b2binvoice.core.logins.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 20)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", 15)
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For; 0 (the
# default) ignores the header, which any client can send.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_ENABLED = env_bool("LOGIN_THROTTLE", True)
AXES_HANDLER = "b2binvoice.core.logins.LoginThrottleHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout is not counted, so the lockout ends when the page says it does.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "b2binvoice.core.logins.client_ip"
AXES_LOCKOUT_CALLABLE = "b2binvoice.core.logins.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Successful logins are not recorded by axes (the failures are what it needs).
AXES_DISABLE_ACCESS_LOG = True
# Two-factor login codes: the name authenticator apps show; wrong codes wait 1 s, 2 s, 4 s, ...
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "b2binvoice")
OTP_TOTP_THROTTLE_FACTOR = 1

LANGUAGE_CODE = "en"
# The interface's languages; catalogues in b2binvoice/locale, compiled by scripts/venv.sh
# (README, "Languages").
LANGUAGES = [("en", "English"), ("es", "Español"), ("ca", "Català")]
LOCALE_PATHS = [BASE_DIR / "b2binvoice" / "locale"]
LANGUAGE_COOKIE_NAME = "b2binvoice_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
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
# With DEBUG on (development, `make run`) WhiteNoise also finds files in the apps, so an edited file
# is served without collecting again; otherwise it serves what collectstatic put in STATIC_ROOT,
# with the compressed copies it made.
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "invoices:list"
LOGOUT_REDIRECT_URL = "login"

# A session ends when the browser closes (the cookie has no expiry) or after SESSION_IDLE_SECONDS
# without a request (b2binvoice.core.sessions.IdleSessionMiddleware).
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 8 * 3600)
SESSION_TOUCH_SECONDS = min(60, max(1, SESSION_IDLE_SECONDS // 10))
SESSION_COOKIE_AGE = SESSION_IDLE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# Content-Security-Policy (django-csp), in development too: scripts, styles, images and fonts only
# from the app itself, no inline script or style, no eval (htmx is configured not to use it), no
# framing. The simulator's pages (a development tool with an inline stylesheet) are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/sim/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Secure by default in production (see docs/deploy.md and docs/security.md).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION and not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    LANGUAGE_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe these over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload HSTS for the whole domain is the domain owner's decision
        # (SECURE_HSTS_PRELOAD=true), not a default; check --deploy would warn about it.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
# The scheme the client used is read from X-Forwarded-Proto only when a proxy that sets it (and
# drops the client's own) stands in front: TRUST_X_FORWARDED_PROTO=true.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
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
# Invoices a bulk push or refresh keeps in flight at once (einvoicing/bulk.py).
B2BROUTER_BULK_CONCURRENCY = int(os.environ.get("B2BROUTER_BULK_CONCURRENCY", "4"))
# Received webhook notifications are kept this long (to de-duplicate retried deliveries).
B2BROUTER_WEBHOOK_EVENTS_DAYS = int(os.environ.get("B2BROUTER_WEBHOOK_EVENTS_DAYS", "90"))
# The task worker queues the sync every B2BROUTER_SYNC_INTERVAL seconds (0: never) and re-queues tasks
# RUNNING for longer than B2BROUTER_TASK_STALE_AFTER seconds (their worker was stopped); see einvoicing/scheduler.py.
B2BROUTER_SYNC_INTERVAL = float(os.environ.get("B2BROUTER_SYNC_INTERVAL", "300"))
B2BROUTER_TASK_STALE_AFTER = float(os.environ.get("B2BROUTER_TASK_STALE_AFTER", "1800"))
B2BROUTER_SCHEDULER_IN_WORKER = os.environ.get("B2BROUTER_SCHEDULER_IN_WORKER", "true").lower() not in ("0", "false", "no")
# The calculation settings shown on a plate are read again when older than this many seconds (0: never).
B2BROUTER_SETTINGS_MAX_AGE = float(os.environ.get("B2BROUTER_SETTINGS_MAX_AGE", "300"))
B2BROUTER_STUCK_AFTER = float(os.environ.get("B2BROUTER_STUCK_AFTER", "3600"))

# The webhook receiver answers 429 to more than this many deliveries per period to one receiver URL
# (0: no limit), and logs deliveries with a bad signature at most once per interval per company
# (b2binvoice.einvoicing.webhook_guard).
B2BROUTER_WEBHOOK_RATE_LIMIT = env_int("B2BROUTER_WEBHOOK_RATE_LIMIT", 60)
B2BROUTER_WEBHOOK_RATE_PERIOD = env_int("B2BROUTER_WEBHOOK_RATE_PERIOD", 60)
B2BROUTER_WEBHOOK_WARNING_INTERVAL = env_int("B2BROUTER_WEBHOOK_WARNING_INTERVAL", 300)

# The Django cache keeps the webhook receiver's delivery counts. By default it lives in the
# database (table b2binvoice_cache, created by `migrate`), so every web process counts together;
# CACHE_BACKEND=locmem keeps it in each process (the limit then applies per process), redis in
# Redis (REDIS_URL).
CACHE_BACKEND = os.environ.get("CACHE_BACKEND", "database")
if CACHE_BACKEND == "locmem":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_BACKEND == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "b2binvoice_cache"}}

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
        # django-axes: failed logins and lockouts are warnings (user names and addresses masked).
        "axes": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# Spain's declaración responsable of this invoicing software (/about/compliance/): its producer is
# whoever deploys or distributes it. Unset values show as marked placeholders on the page (README,
# "Verifactu and TicketBAI").
SOFTWARE_PRODUCER_NAME = os.environ.get("B2BINVOICE_PRODUCER_NAME", "").strip()
SOFTWARE_PRODUCER_NIF = os.environ.get("B2BINVOICE_PRODUCER_NIF", "").strip()
SOFTWARE_PRODUCER_ADDRESS = os.environ.get("B2BINVOICE_PRODUCER_ADDRESS", "").strip()
# AEAT's IdSistemaInformatico: two characters the producer assigns to this system.
SOFTWARE_SYSTEM_ID = os.environ.get("B2BINVOICE_SYSTEM_ID", "BI").strip()[:2]
SOFTWARE_DECLARATION_PLACE = os.environ.get("B2BINVOICE_DECLARATION_PLACE", "").strip()
SOFTWARE_DECLARATION_DATE = os.environ.get("B2BINVOICE_DECLARATION_DATE", "").strip()
