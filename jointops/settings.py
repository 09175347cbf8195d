"""Settings for jointops: one module, driven by the environment (12-factor).

With no environment at all, the app runs on embedded parts: SQLite under var/, kombu's filesystem
broker under var/broker/, e-mail written to files under var/mail/. Set DATABASE_URL, REDIS_URL (or
CELERY_BROKER_URL) and EMAIL_URL to run on PostgreSQL, Redis and SMTP. Every variable is documented
in README.md ("Environment variables").
"""

import datetime
import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("JOINTOPS_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """DJANGO_SECRET_KEY from the environment, else one generated once and kept under var/ (never in the repo)."""
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_countries",
    "django_otp",  # Issue 8: two-factor sign-in (TOTP) and recovery codes (accounts)
    "django_otp.plugins.otp_totp",
    "axes",  # Issue 8: lock-out of repeated failed sign-ins
    "accounts",
    "jointops",
    "beneficiaries",
    "returns",
    "letters_of_understanding",
    "notifications",
    "dashboards",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Issue 8: Content-Security-Policy (before whitenoise: static files get it too)
    "jointops.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jointops.middleware.RejectNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.AccountSecurityMiddleware",  # Issue 8: two-factor sign-in enforced, absolute session age
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "jointops.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",  # Issue 8: turns a locked-out sign-in into the lock-out page (last, per axes)
]

ROOT_URLCONF = "jointops.urls"
WSGI_APPLICATION = "jointops.wsgi.application"

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
                "jointops.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# SQLite in WAL mode with a busy timeout so the web server and the Celery worker can share the file.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000;", "transaction_mode": "IMMEDIATE"}
    )
    # A file, not :memory:, so a Celery worker started by a test can open the test database too.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable server fails fast (e.g. /healthz) instead of hanging for the TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "jointops.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Issue 8: django-axes first, so a locked-out username is refused before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "jointops_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files (served by whitenoise; no CDN) ----------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str("STATICFILES_STORAGE", default="django.contrib.staticfiles.storage.StaticFilesStorage")
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- E-mail -----------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="jointops <no-reply@jointops.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)

# --- Cache ------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------------------
# Reliability settings: see ../shared/RELIABILITY.md ("Consumption"). Task arguments are ids only.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Longer than the hard time limit and than any ETA we use (Celery #2599, #3270, #7009).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 5, "socket_timeout": 10}

# --- Notifications (the outbox, pre-departure lists, reminders) --------------------------------------
# The address pages are reached at, for links in e-mails (no request is at hand in a Celery task).
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}")
# Letter: IOM lists the departures scheduled within this many days ahead (and every change since the last list).
PRE_DEPARTURE_HORIZON_DAYS = env.int("PRE_DEPARTURE_HORIZON_DAYS", default=30)
# When the daily lists are built, local time (HH:MM); LoU reminders and digests follow the same clock.
PRE_DEPARTURE_LIST_TIME = env.str("PRE_DEPARTURE_LIST_TIME", default="06:00")
REMINDERS_TIME = env.str("REMINDERS_TIME", default="06:30")
DIGEST_TIME = env.str("DIGEST_TIME", default="17:00")
# Issue 8: local time (HH:MM) of the daily retention run (privacy.tasks.apply_retention_task), at a quiet hour.
RETENTION_TIME = env.str("RETENTION_TIME", default="03:30")
# An e-mail or webhook is tried this many times, waiting BACKOFF × 2^(n-1) seconds between tries (at most 30 min),
# then parked as failed for an administrator to retry. A delivery left "sending" longer than STALE seconds (a worker
# that died mid-send) is taken up again by the sweeper.
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=8)
DELIVERY_BACKOFF_SECONDS = env.int("DELIVERY_BACKOFF_SECONDS", default=30)
DELIVERY_STALE_SECONDS = env.int("DELIVERY_STALE_SECONDS", default=300)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)

# --- REST API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "jointops.api.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # DRF's default is AllowAny: every endpoint requires an authenticated principal and its own checks.
    "DEFAULT_PERMISSION_CLASSES": ["jointops.api.permissions.IsAuthenticatedPrincipal"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "jointops.api.pagination.DefaultCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "jointops.api.schema.AutoSchema",  # documents the error bodies on every operation
    "DEFAULT_THROTTLE_CLASSES": ["jointops.api.throttling.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": env.str("API_THROTTLE_RATE", default="1200/min")},
    "EXCEPTION_HANDLER": "jointops.api.exception_handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jointops API",
    "DESCRIPTION": "API of the joint UNHCR-IOM case-management application. Authenticate partner systems with "
    "`Authorization: Token <token>`; every endpoint is scoped to the client's office.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set shared by several fields (drf-spectacular warns otherwise).
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "django_countries.countries",
        "RoleEnum": "jointops.choices.Role",
        "BeneficiaryCategoryCodeEnum": "beneficiaries.choices.CategoryCode",
        "MandateRoleEnum": "beneficiaries.choices.MandateRole",
        "SharingBasisEnum": "beneficiaries.choices.SharingBasis",
        "ImportJobStatusEnum": "beneficiaries.models.ImportJob.Status",
        "OperationStatusEnum": "returns.choices.OperationStatus",
        "ReturnKindEnum": "returns.choices.ReturnKind",
        "ReturnStageEnum": "returns.choices.Stage",
        "OperationKindEnum": "returns.choices.OperationKind",
        "AgreementKindEnum": "returns.choices.AgreementKind",
        "ConsultationLinkTypeEnum": "jointops.api.consultations.LINK_TYPE_CHOICES",
        "LouAgencyEnum": "letters_of_understanding.choices.Agency",
        "LouStatusEnum": "letters_of_understanding.choices.LouStatus",
        "LouActivityKindEnum": "letters_of_understanding.choices.ActivityKind",
        "LouEvaluationKindEnum": "letters_of_understanding.choices.EvaluationKind",
        "LouEventKindEnum": "letters_of_understanding.choices.EventKind",
        "LouAmendmentStatusEnum": "letters_of_understanding.choices.AmendmentStatus",
        "LouPlanStatusEnum": "letters_of_understanding.choices.PlanStatus",
        "LouHandoverStatusEnum": "letters_of_understanding.choices.HandoverStatus",
    },
}

# --- Security ---------------------------------------------------------------------------------------
# Always on:
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=30 * 60)  # idle expiry
SESSION_SAVE_EVERY_REQUEST = True
# Issue 8: sign-in and sessions (accounts/). A session ends SESSION_MAX_HOURS after its sign-in, however active.
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
# Lock-out (django-axes, counted in the database): SIGNIN_FAILURE_LIMIT wrong passwords for one username from one
# address lock that pair for SIGNIN_LOCKOUT_MINUTES; a successful sign-in resets the count.
SIGNIN_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
SIGNIN_LOCKOUT_MINUTES = env.int("SIGNIN_LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=SIGNIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_for_lockout"
AXES_VERBOSE = False  # log only what the lock-out counts (username, address), not the user agent
# Two-factor sign-in (django-otp): wrong codes back off exponentially (1, 2, 4... seconds times this factor).
OTP_TOTP_ISSUER = "jointops"
OTP_TOTP_THROTTLE_FACTOR = env.int("TOTP_THROTTLE_FACTOR", default=1)
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Issue 8: Content-Security-Policy (django-csp 4). Every script and style comes from our own static files: no inline
# script or style, no eval, no outside host, no plugins, no <base>, forms post only to us, no framing. img-src allows
# data: for the SVG icons inside Bootstrap's CSS (form-select arrow, validation icons, close button...).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Issue 8: the API answers JSON only. DRF's browsable HTML renderer carries inline styles the policy above refuses;
# people read the API in the Swagger UI at /api/v1/docs/ (its own renderer, under the same policy).
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]
# Issue 8: browser features the app never uses are switched off for every page (jointops.middleware).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# Behind TLS (production): DJANGO_HTTPS=1 turns on redirects, secure cookies and HSTS.
HTTPS = env.bool("DJANGO_HTTPS", default=False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Application --------------------------------------------------------------------------------------
SITE_NAME = "jointops"
HEALTHZ_BROKER_TIMEOUT = env.float("HEALTHZ_BROKER_TIMEOUT", default=2.0)
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=365)
# Imports of people (beneficiaries/importing.py): size limit, and up to how many rows a file runs in the request
# (larger ones run as a Celery task with a progress bar).
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
IMPORT_INLINE_ROWS = env.int("IMPORT_INLINE_ROWS", default=500)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
# Issue 8 (accountability): alert administrators when one account reads or exports more person records in an hour.
ACCESS_ALERT_RECORDS_PER_HOUR = env.int("ACCESS_ALERT_RECORDS_PER_HOUR", default=500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # axes logs every sign-in at INFO; its warnings (lock-outs) are what operators need.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
