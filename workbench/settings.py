"""Settings for the coding workbench, read from the environment.

Environment variables: DATABASE_URL (default: SQLite file in the repo),
DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS.

Production (what docker-compose.yml sets; README "Deploying"): DJANGO_DEBUG=false,
DJANGO_SECURE_HTTPS=true (behind a TLS proxy that sets X-Forwarded-Proto:
HTTPS redirect, secure cookies, HSTS), optionally DJANGO_SECURE_HSTS_SECONDS,
DJANGO_SECURE_HSTS_PRELOAD, DJANGO_SECURE_SSL_REDIRECT, DJANGO_CSRF_TRUSTED_ORIGINS,
DJANGO_CACHE_URL (shared cache for API throttling across workers),
DJANGO_API_THROTTLE_ANON / _USER (rates), DJANGO_API_THROTTLE (false: off).
`python manage.py check --deploy` is clean with those (a test checks it).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105

env = environ.Env(
    DJANGO_DEBUG=(bool, True),
    DJANGO_SECRET_KEY=(str, DEV_SECRET_KEY),
    DJANGO_ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]", "testserver"]),
    DJANGO_SECURE_HTTPS=(bool, False),
    DJANGO_CSRF_TRUSTED_ORIGINS=(list, []),
    DJANGO_API_THROTTLE=(bool, True),
)

DEBUG = env("DJANGO_DEBUG")
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is off but DJANGO_SECRET_KEY is the development key: "
        "set DJANGO_SECRET_KEY to a long random value."
    )
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "axes",
    "csp",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "workbench.security.ContentSecurityPolicyMiddleware",
    "workbench.security.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "workbench.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep connections for a minute instead of one per request: connecting
    # was about a third of PostgreSQL's work per segment created (BENCHMARKS.md).
    DATABASES["default"].setdefault(
        "CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60)
    )
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a command writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # Take the write lock when a transaction starts: with SQLite's default
    # (deferred) two concurrent writers fail with "database is locked" at once
    # instead of waiting for the timeout.
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # First: refuses logins while a username or an address is locked out.
    "workbench.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login throttling (django-axes): 10 failures for one username, or from one
# address, within 15 minutes lock that username or address for 15 minutes.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "workbench.security.lockout_response"
# Not reset by a success: logging into one account must not wipe the failures
# recorded from that address against another (they expire after 15 minutes).
AXES_RESET_ON_SUCCESS = False
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_CLIENT_IP_CALLABLE = "workbench.security.client_ip"
# How many proxies in front of the app append to X-Forwarded-For (the
# compose file's Caddy: 1). 0: the client address is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int(
    "DJANGO_TRUSTED_PROXY_COUNT", default=1 if env("DJANGO_SECURE_HTTPS") else 0
)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Uploads: article files can be large, but not unbounded.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# One uploaded file (annotations.uploads.upload_read), a whole request body
# (workbench.security.RequestSizeLimitMiddleware), and what an uploaded
# archive may unpack to (annotations.uploads.archive_check).
UPLOAD_MAX_BYTES = env.int("DJANGO_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
REQUEST_MAX_BYTES = UPLOAD_MAX_BYTES + 1024 * 1024
ARCHIVE_MAX_TOTAL_BYTES = env.int("DJANGO_ARCHIVE_MAX_BYTES", default=500 * 1024 * 1024)
ARCHIVE_MAX_FILES = env.int("DJANGO_ARCHIVE_MAX_FILES", default=10_000)

CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}

# Security headers on every response. SecurityMiddleware: nosniff,
# Referrer-Policy, COOP; XFrameOptionsMiddleware: DENY. The CSP allows only
# the app's own scripts and styles: no inline script or style="" anywhere.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The Swagger UI page (drf-spectacular) has an inline <style> block and
# data: images; scripts stay 'self' only there too (use the split view).
CSP_PATH_UPDATES = {
    "/api/docs/": {"style-src": ["'unsafe-inline'"], "img-src": ["data:"]},
}

# Production behind a TLS-terminating proxy (DJANGO_SECURE_HTTPS=true).
if env("DJANGO_SECURE_HTTPS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True
    )
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
CSRF_TRUSTED_ORIGINS = env("DJANGO_CSRF_TRUSTED_ORIGINS")
SESSION_COOKIE_HTTPONLY = True

REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with a
    # WWW-Authenticate header (session auth alone would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotations.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "workbench.security.AnonThrottle",
        "workbench.security.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("DJANGO_API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("DJANGO_API_THROTTLE_USER", default="1200/minute"),
    },
}
API_THROTTLE_ENABLED = env("DJANGO_API_THROTTLE")

SPECTACULAR_SETTINGS = {
    "TITLE": "Coding workbench API",
    "DESCRIPTION": "Projects, documents, codebooks, assignments, segments, "
    "agreement and exports. Offsets are half-open Unicode code points.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": True},
    # Distinct names for choice sets that share a field name across the API.
    "ENUM_NAME_OVERRIDES": {"CodeLevelEnum": "annotations.models.Code.Level"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
