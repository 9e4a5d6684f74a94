"""Settings for the renewal shop.

Every value comes from the environment (django-environ) and has a development default, so
``make run`` works on a fresh machine with no services: SQLite and kombu's filesystem broker under
``var/``, localstripe on loopback, mail on the console. With ``DEBUG`` off the development defaults
of the secrets are refused: start-up stops and names what is missing.
"""

from datetime import timedelta
from pathlib import Path

import environ
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
# T9: the name on the customer's card statement, shown on the completion page and in the mail.
STRIPE_STATEMENT_DESCRIPTOR = env.str("STRIPE_STATEMENT_DESCRIPTOR", default="MAMORI*RENEWAL")

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
    "orders",
    "orders.receipts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
# Failed sign-ins allowed per email address and per client address in LOGIN_THROTTLE_WINDOW.
LOGIN_THROTTLE_PER_ACCOUNT = env.int("LOGIN_THROTTLE_PER_ACCOUNT", default=5)
LOGIN_THROTTLE_PER_ADDRESS = env.int("LOGIN_THROTTLE_PER_ADDRESS", default=20)
LOGIN_THROTTLE_WINDOW = timedelta(minutes=env.int("LOGIN_THROTTLE_MINUTES", default=15))
# K4: activation-code attempts allowed per account and per address in the same window.
CODE_THROTTLE_PER_ACCOUNT = env.int("CODE_THROTTLE_PER_ACCOUNT", default=10)
CODE_THROTTLE_PER_ADDRESS = env.int("CODE_THROTTLE_PER_ADDRESS", default=30)

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
# DESIGN 6: the sweep that catches missed webhooks, unqueued events and unextended payments.
RECONCILE_INTERVAL_SECONDS = env.int("RECONCILE_INTERVAL_SECONDS", default=300)
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    "reconcile-payments": {
        "task": "orders.payments.reconciliation.run_reconciliation",
        "schedule": RECONCILE_INTERVAL_SECONDS,
    },
    "receipts-sweep": {
        "task": "orders.receipts.services.sweep_receipts",
        "schedule": timedelta(minutes=15),
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
