"""Settings for Xiaoneng, driven by environment variables (see README, "Configuration").

One module for every environment: development defaults are safe to run locally
(SQLite under ./var, DEBUG on); production is `XIAONENG_DEBUG=0` plus a real secret key
and host list, and then every security flag below switches on so that
`xiaoneng check --deploy` is clean.
"""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("XIAONENG_VAR_DIR", BASE_DIR.parent / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("XIAONENG_DEBUG", True)
SECRET_KEY = os.environ.get("XIAONENG_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("XIAONENG_SECRET_KEY must be set when XIAONENG_DEBUG=0")
    SECRET_KEY = "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"

# Keys that encrypt complainants' identities (Fernet, newest first; see complaints/identity.py).
# Development derives one from SECRET_KEY; production must set its own.
XIAONENG_IDENTITY_KEYS = env_list("XIAONENG_IDENTITY_KEYS", "")
if not XIAONENG_IDENTITY_KEYS and not DEBUG:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("XIAONENG_IDENTITY_KEYS must be set when XIAONENG_DEBUG=0 (xiaoneng identity_keys new)")

# The key that signs the audit log's chains and checkpoints (HMAC-SHA256; see audit/models.py). It must
# live outside the database — whoever holds it can rewrite the log undetectably. Development derives one
# from SECRET_KEY; production must set its own (`xiaoneng audit new-key`) and never change it.
XIAONENG_AUDIT_KEY = os.environ.get("XIAONENG_AUDIT_KEY", "")
if not XIAONENG_AUDIT_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("XIAONENG_AUDIT_KEY must be set when XIAONENG_DEBUG=0 (xiaoneng audit new-key)")
    import hashlib

    XIAONENG_AUDIT_KEY = hashlib.sha256(b"xiaoneng-audit:" + SECRET_KEY.encode()).hexdigest()
# A file outside the database to which `audit checkpoint` appends each signed checkpoint (one JSON line)
# and against which `audit verify` checks the log: empty = checkpoints are kept in the database only.
XIAONENG_AUDIT_CHECKPOINT_FILE = os.environ.get("XIAONENG_AUDIT_CHECKPOINT_FILE", "")

# Shared token the SMS gateway sends in X-Gateway-Token to /public/complaints/sms/; empty = endpoint off.
XIAONENG_SMS_GATEWAY_TOKEN = os.environ.get("XIAONENG_SMS_GATEWAY_TOKEN", "")

ALLOWED_HOSTS = env_list("XIAONENG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("XIAONENG_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "xiaoneng.audit",
    "xiaoneng.orgs",
    "xiaoneng.calendar",
    "xiaoneng.clocks",
    "xiaoneng.notify",
    "xiaoneng.approvals",
    "xiaoneng.supervision",
    "xiaoneng.complaints",
    "xiaoneng.documents",
    "xiaoneng.exports",
    "xiaoneng.portal",
    "xiaoneng.accountability",
    "xiaoneng.inbox",
    "xiaoneng.appraisal",
    "xiaoneng.surveys",
    "xiaoneng.web",
    "xiaoneng.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xiaoneng.web.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "xiaoneng.web.middleware.NulGuardMiddleware",
    "xiaoneng.portal.views.PublicNotFoundMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xiaoneng.audit.middleware.AuditContextMiddleware",
    "xiaoneng.web.middleware.SecurityHeadersMiddleware",
    # Axes last, as its documentation asks, so it sees the final response of a login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xiaoneng.urls"
WSGI_APPLICATION = "xiaoneng.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xiaoneng.web.context.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'xiaoneng.sqlite3'}"),
        conn_max_age=int(os.environ.get("XIAONENG_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server and the background loops read while another writes. IMMEDIATE takes the
    # write lock when a transaction begins, so a writer waits its turn (up to `timeout`): a deferred
    # transaction that read first and then wrote failed at once with "database is locked" whenever
    # another process had written meanwhile (seen as the demo's complaint sweep dying at start-up,
    # next to the monitoring loop, the notification sender and the roll-up refresh).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("XIAONENG_TEST_SQLITE", "")} if os.environ.get(
        "XIAONENG_TEST_SQLITE"
    ) else {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "orgs.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): lock a username+address pair after 5 failures for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("XIAONENG_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("XIAONENG_LOGIN_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "xiaoneng.web.middleware.axes_username"

# --- I18n -----------------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("XIAONENG_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("XIAONENG_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Static files (all served from the project; no CDN) -------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = VAR_DIR / "media"

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("XIAONENG_SESSION_SECONDS", str(8 * 3600)))
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("XIAONENG_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("XIAONENG_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("XIAONENG_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# Virus scan of uploaded case materials: the dotted path of a callable `scan(name, data: bytes) -> str | None`
# called before a file is stored; it returns None to accept or the reason it refuses (shown on the form).
# The default accepts everything; a deployment points it at its scanner (e.g. a clamd client).
XIAONENG_VIRUS_SCAN = os.environ.get("XIAONENG_VIRUS_SCAN", "xiaoneng.lib.uploads.accept_all")

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "xiaoneng.api.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "xiaoneng.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Xiaoneng API",
    "DESCRIPTION": "效能 administrative-efficiency platform",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a field called "kind"; name their enums explicitly.
    "ENUM_NAME_OVERRIDES": {
        "OrganKindEnum": "xiaoneng.orgs.models.OrganKind",
        "DayKindEnum": "xiaoneng.calendar.models.DayKind",
        "ClockEventKindEnum": "xiaoneng.clocks.models.ClockEvent.Kind",
        "ExchangeEventTypeEnum": "xiaoneng.approvals.exchange.schema.EVENT_TYPE_CHOICES",
        "ExchangeEventStateEnum": "xiaoneng.approvals.exchange.schema.EVENT_STATE_CHOICES",
        "StateEnum": "xiaoneng.clocks.models.Clock.State",  # the name clocks' state had before the one above came
        "AccountabilityFilingLevelEnum": "xiaoneng.accountability.models.FilingLevel",
        "LevelEnum": "xiaoneng.orgs.models.RegionLevel",  # keeps its name now that filings have a level too
        "AppraisalSchemeStatusEnum": "xiaoneng.appraisal.models.SchemeStatus",
        "AppraisalPeriodStatusEnum": "xiaoneng.appraisal.models.PeriodStatus",
        "AppraisalGradeEnum": "xiaoneng.appraisal.models.Grade",
        "AccountabilityProposalStatusEnum": "xiaoneng.accountability.models.ProposalStatus",
        "AccountabilityCaseStatusEnum": "xiaoneng.accountability.models.Status",
        "AccountabilityProposalSourceEnum": "xiaoneng.accountability.models.Source",
        "AppraisalIndicatorSourceEnum": "xiaoneng.appraisal.models.Source",
    },
}

# Login throttling counts in the database (django-axes), but the public look-up and complaint limits, the
# exchange's per-source throttle, the API throttles and the one-time tokens count in this cache: it must be
# shared by every web worker, or each worker counts alone and a limit of 10 becomes 10 per worker. Redis
# (`XIAONENG_CACHE_URL`) is the documented production cache; without it production falls back to Django's
# database cache (table `xiaoneng_cache`, created by `migrate`), which every worker and machine shares.
# Only development keeps the in-process cache (`dev.py` runs one database and few workers).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if not DEBUG:
    CACHES["default"] = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "xiaoneng_cache"}
if os.environ.get("XIAONENG_CACHE_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["XIAONENG_CACHE_URL"],
        "KEY_PREFIX": os.environ.get("XIAONENG_CACHE_PREFIX", ""),  # several sites on one Redis
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XIAONENG_LOG_LEVEL", "WARNING")},
}

# --- Notifications (xiaoneng.notify) ----------------------------------------------------
XIAONENG_NOTIFY_BACKEND = os.environ.get("XIAONENG_NOTIFY_BACKEND", "xiaoneng.notify.backends.ConsoleBackend")
XIAONENG_NOTIFY_FILE = os.environ.get("XIAONENG_NOTIFY_FILE", str(VAR_DIR / "notifications.jsonl"))
XIAONENG_SMS_URL = os.environ.get("XIAONENG_SMS_URL", "")
XIAONENG_SMS_TOKEN = os.environ.get("XIAONENG_SMS_TOKEN", "")
XIAONENG_SMS_TIMEOUT = float(os.environ.get("XIAONENG_SMS_TIMEOUT", "10"))
# Set only if the gateway drops a repeated Idempotency-Key: then a message whose sender died mid-send is sent
# again with the same key instead of waiting, `unknown`, for a person (README, "Notifications").
XIAONENG_SMS_IDEMPOTENT = env_bool("XIAONENG_SMS_IDEMPOTENT", False)
# An attempt older than this whose outcome was never recorded belongs to a dead sender.
XIAONENG_NOTIFY_STALE_SECONDS = float(os.environ.get("XIAONENG_NOTIFY_STALE_SECONDS", "300"))

# --- Programme rules that vary by province (defaults documented in xiaoneng/conf.py) --
XIAONENG_CONFIG_FILE = os.environ.get("XIAONENG_CONFIG_FILE", "")
