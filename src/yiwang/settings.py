"""Settings from the environment (DESIGN.md): safe for production unless told otherwise.

`YIWANG_DEMO=1` (set by `make run`) relaxes only what plain HTTP on localhost
needs; DEBUG stays off unless `YIWANG_DEBUG=1`.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
ROOT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("YIWANG_VAR_DIR", ROOT_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


PRODUCTION = os.environ.get("YIWANG_ENV", "development") == "production"
DEMO = env_bool("YIWANG_DEMO")
DEBUG = env_bool("YIWANG_DEBUG")


def _local_secrets() -> dict[str, str]:
    """Secrets generated once into var/ (mode 0600) for development and demo."""
    path = VAR_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "YIWANG_FIELD_KEYS": f"k1:{secrets.token_hex(16)}",
        "YIWANG_BLIND_INDEX_KEY": secrets.token_hex(32),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(values, fh)
    return values


def _secret(name: str) -> str:
    if name in os.environ:
        return os.environ[name]
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return _local_secrets()[name]


SECRET_KEY = _secret("SECRET_KEY")
# "id:hex,id:hex": the first key encrypts, all decrypt (rotation).
YIWANG_FIELD_KEYS = _secret("YIWANG_FIELD_KEYS")
YIWANG_BLIND_INDEX_KEY = _secret("YIWANG_BLIND_INDEX_KEY")

ALLOWED_HOSTS = os.environ.get("YIWANG_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("YIWANG_CSRF_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    # foundation
    "yiwang.common",
    "yiwang.crypto",
    "yiwang.calendar",
    "yiwang.audit",
    "yiwang.search",
    "yiwang.workflow",
    "yiwang.notify",
    "yiwang.identity",
    "yiwang.catalog",
    "yiwang.seals",
    # domains
    "yiwang.cases",
    "yiwang.ratings",
    "yiwang.licenses",
    "yiwang.hotline",
    # interfaces
    "yiwang.api",
    "yiwang.portal",
    "yiwang.console",
    "yiwang.interop",
    "yiwang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "yiwang.portal.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yiwang.common.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"

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
                "yiwang.console.context.console_context",
                "yiwang.notify.context.unread_messages",
            ],
        },
    },
]

# Database: SQLite in WAL mode under var/ unless DATABASE_URL says otherwise.
# Connections are kept (per thread) on both vendors: opening a SQLite connection costs
# its PRAGMAs plus parsing the schema and the FTS5 table on first use, ~4 ms per request.
CONN_MAX_AGE = int(os.environ.get("YIWANG_CONN_MAX_AGE", "600"))
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("YIWANG_SQLITE_PATH", str(VAR_DIR / "yiwang.sqlite3")),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = ["yiwang.identity.backends.PhoneOrUsernameBackend"]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("YIWANG_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    ("vendor/htmx", ROOT_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/echarts", ROOT_DIR / "node_modules" / "echarts" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG

# Security: secure by default; demo mode serves plain HTTP on localhost.
SECURE = not DEMO and not DEBUG and env_bool("YIWANG_SECURE", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("YIWANG_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = int(os.environ.get("YIWANG_HSTS_SECONDS", "31536000" if SECURE else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "yiwang.portal.views.csrf_failure"
YIWANG_CSP = os.environ.get(
    "YIWANG_CSP",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["yiwang.api.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "yiwang.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "yiwang.api.errors.problem_exception_handler",
    # Public licence verification and authorization use, per client IP; "none" lifts the
    # limit (the benchmark, or a verifier behind one gateway IP).
    "DEFAULT_THROTTLE_RATES": {
        "login": "30/min",
        "otp": "10/min",
        **{
            scope: None if rate.lower() == "none" else rate
            for scope, rate in (
                ("license_verify", os.environ.get("YIWANG_LICENSE_VERIFY_RATE", "300/min")),
                ("license_use", os.environ.get("YIWANG_LICENSE_USE_RATE", "60/min")),
            )
        },
    },
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang API",
    "DESCRIPTION": "一网通办 platform API v1",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ItemTypeEnum": "yiwang.catalog.codes.ItemType",
        "RatingLevelEnum": "yiwang.common.codes.SatisfactionLevel",
        "ExerciseLevelEnum": "yiwang.identity.codes.ExerciseLevel",
        "ListingStatusEnum": "yiwang.catalog.codes.ListingStatus",
        "RectificationStatusEnum": "yiwang.ratings.models.Rectification.Status",
        "SealKindEnum": "yiwang.seals.models.Seal.Kind",
    },
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("YIWANG_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Pluggable senders (STYLE.md: registries at the edges).
YIWANG_SMS_SENDER = os.environ.get("YIWANG_SMS_SENDER", "console")
# Email (docs/notifications.md): console in development, SMTP in production, or any backend.
EMAIL_BACKEND = os.environ.get(
    "YIWANG_EMAIL_BACKEND",
    f"django.core.mail.backends.{'smtp' if PRODUCTION else 'console'}.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get(
    "YIWANG_DEFAULT_FROM_EMAIL", "一网通办 <noreply@yiwang.invalid>"
)
EMAIL_HOST = os.environ.get("YIWANG_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("YIWANG_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("YIWANG_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("YIWANG_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("YIWANG_EMAIL_USE_TLS")
# Public address of the portal, for links in emails ("https://zwfw.example.gov.cn"); empty: none.
YIWANG_SITE_URL = os.environ.get("YIWANG_SITE_URL", "")
YIWANG_LOGIN_MAX_FAILURES = int(os.environ.get("YIWANG_LOGIN_MAX_FAILURES", "5"))
YIWANG_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("YIWANG_LOGIN_LOCKOUT_MINUTES", "15"))
# Registration needs a verified SMS code (docs/identity.md); demo/tests read it from the outbox.
YIWANG_REQUIRE_PHONE_CODE = env_bool("YIWANG_REQUIRE_PHONE_CODE", default=True)
# Real-name verifier plugin: "local" checks the ID number; production plugs the authority's.
YIWANG_REAL_NAME_VERIFIER = os.environ.get("YIWANG_REAL_NAME_VERIFIER", "local")
# Working-day overrides (docs/calendar.md); empty: the file shipped in calendar/data/. The demo
# city uses a provisional next year (demo/data/calendar-provisional.yaml), never production.
YIWANG_CALENDAR_FILE = os.environ.get(
    "YIWANG_CALENDAR_FILE",
    str(BASE_DIR / "demo" / "data" / "calendar-provisional.yaml")
    if DEMO and not PRODUCTION
    else "",
)
# Office periods for limits in working hours (docs/calendar.md "Working hours"), local time.
YIWANG_OFFICE_HOURS = (("09:00", "12:00"), ("13:30", "17:30"))
# 12345 hotline (docs/hotline.md). The centre, by credit code: its operators, inspectors and
# dispatchers hold roles there (default in the demo: 示范市12345政务服务便民热线中心).
YIWANG_HOTLINE_CENTRE = os.environ.get(
    "YIWANG_HOTLINE_CENTRE", "12359900486123456Q" if DEMO else ""
)
# Centre-side limits: register and dispatch within N working hours of the report; check and
# follow up within N working days of handling. Category limits cover signing and handling.
YIWANG_HOTLINE_DISPATCH_HOURS = float(os.environ.get("YIWANG_HOTLINE_DISPATCH_HOURS", "2"))
YIWANG_HOTLINE_CHECK_DAYS = int(os.environ.get("YIWANG_HOTLINE_CHECK_DAYS", "3"))
# 督办: level 2 (platform supervisor) once a step is overdue by this many more working hours.
YIWANG_HOTLINE_ESCALATE_HOURS = float(os.environ.get("YIWANG_HOTLINE_ESCALATE_HOURS", "7"))
# 重复诉求: the same caller or place about the same category within this many days.
YIWANG_HOTLINE_REPEAT_DAYS = int(os.environ.get("YIWANG_HOTLINE_REPEAT_DAYS", "30"))
# 智能派单 dispatches alone only at or above this confidence (0-1); empty: never alone.
YIWANG_HOTLINE_AUTO_DISPATCH = os.environ.get("YIWANG_HOTLINE_AUTO_DISPATCH", "")
# How often a process looks for a newly trained routing model (docs/hotline-routing.md).
YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS = float(
    os.environ.get("YIWANG_HOTLINE_ROUTING_REFRESH_SECONDS", "5")
)
# Open311 GeoReport v2 (docs/open311.md): this city's jurisdiction_id, POSTs per key a minute.
YIWANG_OPEN311_JURISDICTION = os.environ.get("YIWANG_OPEN311_JURISDICTION", "shifan.gov.cn")
YIWANG_OPEN311_RATE_PER_MINUTE = int(os.environ.get("YIWANG_OPEN311_RATE_PER_MINUTE", "60"))
YIWANG_AUDIT_SEAL_SECONDS = float(os.environ.get("YIWANG_AUDIT_SEAL_SECONDS", "2"))
# Uploaded case materials (docs/application-forms.md): size cap and virus-scan plugin
# ("builtin" finds the EICAR test file; "clamd" for production; "none").
YIWANG_MATERIAL_MAX_BYTES = int(os.environ.get("YIWANG_MATERIAL_MAX_BYTES", str(10 * 1024 * 1024)))
YIWANG_VIRUS_SCANNER = os.environ.get("YIWANG_VIRUS_SCANNER", "builtin")
# Where signing keys live: "database" (SM4-GCM encrypted, default) or a registered HSM store.
YIWANG_KEY_STORE = os.environ.get("YIWANG_KEY_STORE", "database")
YIWANG_CLAMD_SOCKET = os.environ.get("YIWANG_CLAMD_SOCKET", "/var/run/clamav/clamd.ctl")
YIWANG_CLAMD_TIMEOUT = float(os.environ.get("YIWANG_CLAMD_TIMEOUT", "30"))
# 好差评 (docs/ratings.md): 差评整改 deadline in working days; rating period in calendar days.
YIWANG_RECTIFICATION_DAYS = int(os.environ.get("YIWANG_RECTIFICATION_DAYS", "5"))
YIWANG_RATING_PERIOD_DAYS = int(os.environ.get("YIWANG_RATING_PERIOD_DAYS", "15"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("YIWANG_LOG_LEVEL", "INFO")},
    # SpiffWorkflow logs every task state change at INFO: noise, and slow on each case step.
    "loggers": {"jieba": {"level": "WARNING"}, "spiff": {"level": "WARNING"}},
}
