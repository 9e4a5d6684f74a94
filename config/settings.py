"""Settings for the renewal shop.

Every value comes from the environment (django-environ) and has a development default, so
``make run`` works on a fresh machine with no services: SQLite and kombu's filesystem broker under
``var/``, localstripe on loopback, mail on the console. With ``DEBUG`` off the development defaults
of the secrets are refused: start-up stops and names what is missing.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; a missing file is fine
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=True)

# Development-only defaults: refused below when DEBUG is off.
_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
_DEV_STRIPE_SECRET_KEY = "sk_test_localstripe"
_DEV_STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"
_DEV_WEBHOOK_SECRET = "whsec_localstripe_dev"

SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Stripe (the same code talks to localstripe and to api.stripe.com) -------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default=_DEV_STRIPE_SECRET_KEY)
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default=_DEV_STRIPE_PUBLISHABLE_KEY)
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default=_DEV_WEBHOOK_SECRET)
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="http://127.0.0.1:8420")
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="http://127.0.0.1:8420/js.stripe.com/v3/")
# DESIGN 5.1: the API version sent on every request and the webhook endpoint's version. It is the
# version the pinned stripe SDK (pyproject.toml) is generated for, so its typed params describe
# what we may send; not an environment setting: change it only together with the SDK pin
# (tests/orders/payments/test_contract.py fails when the two differ).
STRIPE_API_VERSION = "2026-10-28.endive"
# T9: the name on the customer's card statement, shown on the completion page and in the mail.
STRIPE_STATEMENT_DESCRIPTOR = env.str("STRIPE_STATEMENT_DESCRIPTOR", default="MAMORI*RENEWAL")


def _is_public_https(url: str) -> bool:
    """An https:// URL whose host is not this machine (loopback, unspecified or localhost)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (address.is_loopback or address.is_unspecified)


if not DEBUG:
    _missing = [
        name
        for name, value, dev_default in (
            ("SECRET_KEY", SECRET_KEY, _DEV_SECRET_KEY),
            ("STRIPE_SECRET_KEY", STRIPE_SECRET_KEY, _DEV_STRIPE_SECRET_KEY),
            ("STRIPE_PUBLISHABLE_KEY", STRIPE_PUBLISHABLE_KEY, _DEV_STRIPE_PUBLISHABLE_KEY),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET, _DEV_WEBHOOK_SECRET),
        )
        if not value or value == dev_default
    ]
    if _missing:
        raise ImproperlyConfigured(
            "DEBUG is off but these secrets are not set in the environment: "
            + ", ".join(_missing)
            + ". Set them (see README, 'Environment variables') or run with DEBUG=true."
        )
    # Card data and API keys must never travel in clear or to a stand-in like localstripe.
    _insecure = [
        f"{name}={value}"
        for name, value in (("STRIPE_API_BASE", STRIPE_API_BASE), ("STRIPE_JS_URL", STRIPE_JS_URL))
        if not _is_public_https(value)
    ]
    # Benchmarks only (bench/common.py): production settings measured against localstripe.
    if _insecure and not env.bool("STRIPE_ALLOW_LOCALSTRIPE", default=False):
        raise ImproperlyConfigured(
            "DEBUG is off but Stripe is configured with a development address: "
            + ", ".join(_insecure)
            + ". Use https://api.stripe.com and https://js.stripe.com/v3/ (see README, "
            "'Production') or run with DEBUG=true."
        )

# --- Applications -------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "licenses",
    "licenses.reminders",
    "orders",
    "orders.receipts",
    "orders.renewals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RefuseMalformedRequests",
    "config.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.shop",
            ],
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker and the web server write to the same file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    # A file, not memory, so a real Celery worker started by the tests sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://shop")}
# Sessions read from the cache, written through to the database: one query less per page, and
# nothing lost when the cache is flushed.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ---------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["licenses.auth.EmailBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "licenses:list"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in (licenses.throttle): failures free of delay per pair of account and client address,
# and per client address across accounts; after that each attempt waits, from the first delay
# doubling up to LOGIN_THROTTLE_MINUTES, after which quiet failures are forgotten. The owner at
# their own address is never held up by someone else's failures.
LOGIN_THROTTLE_PER_PAIR = env.int("LOGIN_THROTTLE_PER_PAIR", default=5)
LOGIN_THROTTLE_PER_ADDRESS = env.int("LOGIN_THROTTLE_PER_ADDRESS", default=20)
LOGIN_THROTTLE_FIRST_DELAY_SECONDS = env.int("LOGIN_THROTTLE_FIRST_DELAY_SECONDS", default=60)
LOGIN_THROTTLE_WINDOW = timedelta(minutes=env.int("LOGIN_THROTTLE_MINUTES", default=15))
# K4: activation-code attempts allowed per account and per address in the same window.
CODE_THROTTLE_PER_ACCOUNT = env.int("CODE_THROTTLE_PER_ACCOUNT", default=10)
CODE_THROTTLE_PER_ADDRESS = env.int("CODE_THROTTLE_PER_ADDRESS", default=30)
# Sign-ups and password-reset requests (each makes the shop send a mail) per typed email address
# and per client address in ACCOUNT_MAIL_THROTTLE_MINUTES.
ACCOUNT_MAIL_THROTTLE_PER_EMAIL = env.int("ACCOUNT_MAIL_THROTTLE_PER_EMAIL", default=3)
ACCOUNT_MAIL_THROTTLE_PER_ADDRESS = env.int("ACCOUNT_MAIL_THROTTLE_PER_ADDRESS", default=10)
ACCOUNT_MAIL_THROTTLE_WINDOW = timedelta(
    minutes=env.int("ACCOUNT_MAIL_THROTTLE_MINUTES", default=60)
)
# The client address for throttles: REMOTE_ADDR, or with this many trusted proxies in front (a
# load balancer, a CDN) the address the outermost one saw, from this header (see licenses.throttle).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_HEADER = env.str("TRUSTED_PROXY_HEADER", default="X-Forwarded-For")

# --- Languages (Japanese at /, English at /en/) --------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = STORAGES["default"]["OPTIONS"]["location"]

# --- Mail ---------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="まもりストア <shop@example.com>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Its own folder per broker: the tests give each worker a fresh one.
    _broker_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    _queue_dir = _broker_dir / "queue"
    _processed_dir = _broker_dir / "processed"
    # Exchange tables; kombu's default is "control" relative to the working directory.
    _control_dir = _broker_dir / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        # kombu polls the folder once a second by default: one task a second at most, and
        # a completion page waiting for its extension behind a few mails. Listing a folder
        # ten times a second costs nothing.
        "polling_interval": env.float("CELERY_FILESYSTEM_POLLING_INTERVAL", default=0.1),
    }
else:
    # Redis: a task not acknowledged within this time is delivered again (acks_late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY", 3600)}
    # Prefixes every key kombu writes, so several sites (or test runs) can share one Redis.
    if _redis_prefix := env.str("CELERY_REDIS_KEY_PREFIX", default=""):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = _redis_prefix
# Folders the embedded defaults write to; ``config.folders`` creates them when a process starts
# (manage.py, wsgi, the Celery worker and beat), never when settings are imported.
LOCAL_FOLDERS = [VAR_DIR, STATIC_ROOT, MEDIA_ROOT]
if CELERY_BROKER_URL.startswith("filesystem://"):
    LOCAL_FOLDERS += [_queue_dir, _processed_dir, _control_dir]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TIMEZONE = TIME_ZONE
# Celery's Django fix-up closes the database connection before and after every task unless this
# is set; a new PostgreSQL connection per task was the largest part of an extension (issue 15,
# bench/extension.py). Now a pool process keeps its connection, recycled after so many tasks, and
# config.celery closes it between tasks when it is broken or older than CONN_MAX_AGE, as Django
# does between requests.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# After a process finds the broker unreachable it stops trying for so many seconds (config.celery):
# requests answer at once, the sweeps queue what was not published.
CELERY_PUBLISH_PAUSE_SECONDS = env.float("CELERY_PUBLISH_PAUSE_SECONDS", default=2)
# DESIGN 6: the sweep that catches missed webhooks, unqueued events and unextended payments.
# Development runs the sweep every minute and takes work left for a minute, so a demo whose worker
# was killed recovers within one or two minutes; production defaults are gentler (README).
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=60 if DEBUG else 300)
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=60 if DEBUG else 600)
# Issue 9 point 15: a customer polling the completion page of a paid order that is still not
# extended after this many seconds queues the extension again (its task may have been lost).
FULFIL_NUDGE_SECONDS = env.int("FULFIL_NUDGE_SECONDS", default=20)
# Orders left in draft or at the details step this long are canceled by the sweep (their
# SetupIntent and PaymentIntent canceled at Stripe), so they cannot be paid later by mistake.
STALE_ORDER_HOURS = env.int("STALE_ORDER_HOURS", default=24)
# DESIGN 8: expiry reminders. Offsets are days before the expiry date (negative: after it); the
# sweep runs daily at REMINDER_SWEEP_HOUR (shop time) and queues them in batches of
# REMINDER_BATCH_SIZE; each worker sends at most REMINDER_SEND_RATE of them (Celery rate limit:
# "10/s", "300/m"); the "Renew now" link of a reminder opens the choice page for
# REMINDER_LINK_MAX_AGE_DAYS.
REMINDER_OFFSETS_DAYS = env.list(
    "REMINDER_OFFSETS_DAYS", cast=int, default=[30, 14, 7, 1, 0, -7, -30]
)
REMINDER_SWEEP_HOUR = env.int("REMINDER_SWEEP_HOUR", default=9)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=500)
REMINDER_SEND_RATE = env.str("REMINDER_SEND_RATE", default="10/s")
REMINDER_LINK_MAX_AGE_DAYS = env.int("REMINDER_LINK_MAX_AGE_DAYS", default=60)
# Automatic renewal (DESIGN 6a): the first off-session charge AUTO_RENEW_DAYS_BEFORE days before
# expiry, retries after a decline at AUTO_RENEW_RETRY_DAYS (days before expiry; the last one is
# the final try), the notice AUTO_RENEW_NOTICE_DAYS before the charge; beat sweeps daily at
# AUTO_RENEW_SWEEP_HOUR (shop time).
AUTO_RENEW_DAYS_BEFORE = env.int("AUTO_RENEW_DAYS_BEFORE", default=7)
AUTO_RENEW_RETRY_DAYS = env.list("AUTO_RENEW_RETRY_DAYS", cast=int, default=[7, 3, 0])
AUTO_RENEW_NOTICE_DAYS = env.int("AUTO_RENEW_NOTICE_DAYS", default=30)
AUTO_RENEW_SWEEP_HOUR = env.int("AUTO_RENEW_SWEEP_HOUR", default=10)
CELERY_BEAT_SCHEDULE = {
    "automatic-renewals": {
        "task": "orders.renewals.services.run_auto_renewal_sweep",
        "schedule": crontab(hour=AUTO_RENEW_SWEEP_HOUR, minute=0),
    },
    "reconcile-payments": {
        "task": "orders.payments.reconciliation.run_reconciliation",
        "schedule": RECONCILE_INTERVAL_SECONDS,
    },
    "receipts-sweep": {
        "task": "orders.receipts.services.sweep_receipts",
        "schedule": timedelta(minutes=15),
    },
    "expiry-reminders": {
        "task": "licenses.reminders.services.run_reminder_sweep",
        "schedule": crontab(hour=REMINDER_SWEEP_HOUR, minute=0),
    },
    # K7: Windows reserve licenses take over on the expiry date; Mac customers get their mail.
    "switch-reserve-licenses": {
        "task": "licenses.reserves.run_reserve_switch",
        "schedule": timedelta(hours=1),
    },
}

# --- The installed program's API (licenses/api, DESIGN 6b) ---------------------------------------
# Token-authenticated JSON only: no session authentication, so no CSRF on it.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["licenses.api.authentication.DeviceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["licenses.api.authentication.HasDeviceToken"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_THROTTLE_CLASSES": [
        "licenses.api.throttles.PerTokenThrottle",
        "licenses.api.throttles.PerAddressThrottle",
    ],
    "EXCEPTION_HANDLER": "licenses.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Requests allowed per device token and per client address (DRF throttles, counted in the cache).
API_THROTTLE_RATES = {
    "token": env.str("API_THROTTLE_PER_TOKEN", default="60/minute"),
    "address": env.str("API_THROTTLE_PER_ADDRESS", default="120/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mamori Store program API",
    "DESCRIPTION": (
        "The API the installed program talks to: activate an installation, read its license, "
        "add activation codes (K5–K8). Errors are JSON with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI from the sidecar package: the docs page loads nothing from outside.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"PlatformEnum": "licenses.models.Platform"},
}

# --- Seller (特定商取引法に基づく表記 and receipts, J2/J5) ---------------------------------------------
SELLER = {
    "name": env.str("SELLER_NAME", default="株式会社まもりソフト (デモ)"),
    "name_en": env.str("SELLER_NAME_EN", default="Mamori Soft K.K. (demo)"),
    "representative": env.str("SELLER_REPRESENTATIVE", default="代表取締役 山田 太郎"),
    "postal_code": env.str("SELLER_POSTAL_CODE", default="100-0001"),
    "address": env.str("SELLER_ADDRESS", default="東京都千代田区千代田1-1 まもりビル 5F"),
    "phone": env.str("SELLER_PHONE", default="03-0000-0000"),
    "email": env.str("SELLER_EMAIL", default="support@example.com"),
    "support_hours": env.str("SELLER_SUPPORT_HOURS", default="平日 10:00〜17:00"),
    "invoice_registration_number": env.str(
        "SELLER_INVOICE_REGISTRATION_NUMBER", default="T1234567890123"
    ),
}
SHOP_NAME = env.str("SHOP_NAME", default="まもりストア")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): this site only, no inline script or style; Stripe's script,
# frames and API origins are added per response from STRIPE_JS_URL and STRIPE_API_BASE
# (config.csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
