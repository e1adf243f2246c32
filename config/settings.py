"""EaseBack settings: one file, configured through environment variables.

Development defaults are safe (SQLite file, debug only when asked for); production is
this same file with DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL set.
"""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    is_placeholder_secret,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(set DJANGO_DEBUG=true for local development)."
        )
    SECRET_KEY = "development-only-insecure-key-never-use-in-production"  # noqa: S105
elif not DEBUG and is_placeholder_secret(SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a placeholder from an example; set a long random value: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "accounts",
    "stretches",
    "tracking",
    "sharing",
    "reminders",
    "pwa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Below the header middleware, above everything that touches the database.
    "config.middleware.DatabaseUnavailableMiddleware",
    # One memo per request (lib.page_cache.memoised): the catalogue is read once.
    "lib.page_cache.RequestMemoMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Below the session and user: a response that signs someone out clears the browser.
    "pwa.middleware.ClearSiteDataOnSignOut",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TimezoneMiddleware",
    "accounts.middleware.SlidingSessionMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    # Last, so a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                # Django's own csrf_token, told to a page being cached (lib.page_cache).
                "lib.page_cache.csrf",
            ],
            # {% path %} and {% asset %}: {% url %} and {% static %}, remembered (lib.paths).
            "libraries": {"paths": "lib.paths"},
        },
    },
]

# Database: SQLite file by default so a newcomer needs nothing else; PostgreSQL in
# production through DATABASE_URL. Persistent connections with a health check
# (rather than Django's pool) keep one connection per gunicorn worker thread and
# recover by themselves after the database restarts.
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 3
    # A query stuck behind a long lock (a migration, a manual ALTER) fails fast with a 503
    # instead of tying up every worker thread; 0 means no limit (for a big migrate).
    DATABASE_STATEMENT_TIMEOUT_MS = env_int("DJANGO_DB_STATEMENT_TIMEOUT_MS", 15_000)
    DATABASE_LOCK_TIMEOUT_MS = env_int("DJANGO_DB_LOCK_TIMEOUT_MS", 2_000)
    DATABASES["default"]["OPTIONS"]["options"] = (
        f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS} "
        f"-c lock_timeout={DATABASE_LOCK_TIMEOUT_MS}"
    )
    DATABASES["default"]["TEST"] = {"NAME": env_str("DJANGO_TEST_DATABASE_NAME") or None}
else:
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 10
    # Each transaction takes the write lock when it begins: two that read and then both
    # try to write would otherwise fail at once ("database is locked") instead of waiting.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # SQLite builds the covering index without its included columns; that is fine.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# With REDIS_URL set (production, CI's PostgreSQL pass) every worker shares one cache: the
# sessions and the signed-in user are read from it (accounts.cached_sessions,
# accounts.backends), and anything revoked (a logout, a password change, a pause) is
# retired there for every worker at once. Without it (`make run`, SQLite) the cache is the
# worker's own memory, which only ever holds values keyed by a version read from the
# database; sessions and users are then read from the database on every request.
REDIS_URL = env_str("REDIS_URL")
CACHE_IS_SHARED = bool(REDIS_URL)
if CACHE_IS_SHARED:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {REDIS_URL!r})."
        )
    CACHES = {
        "default": {
            "BACKEND": "lib.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "easeback",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "easeback",
        }
    }

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.ProfileModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "landing"

# Brute-force protection, stored in the database so every gunicorn worker sees it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "lib.client.client_address"

# How many reverse proxies in front of the app append to X-Forwarded-For (lib/client.py).
# 0: the header is ignored and the socket's address is the client's.
TRUSTED_PROXY_HOPS = env_int("DJANGO_TRUSTED_PROXY_HOPS", 0)

# Attempts per client address per hour, counted in the database (accounts/throttle.py) so
# every worker sees them. Sign-up is the slowest: it is the page that says whether a
# username is taken.
THROTTLE_LOGIN_PER_HOUR = env_int("DJANGO_THROTTLE_LOGIN_PER_HOUR", 30, minimum=1)
THROTTLE_SIGNUP_PER_HOUR = env_int("DJANGO_THROTTLE_SIGNUP_PER_HOUR", 10, minimum=1)
THROTTLE_PASSWORD_RESET_PER_HOUR = env_int("DJANGO_THROTTLE_PASSWORD_RESET_PER_HOUR", 5, minimum=1)

# Mail (password resets, address checks): printed to the console in development, sent
# through an SMTP server in production.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_mail_backend = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else SMTP_BACKEND,
)
_mail_options = {}
if _mail_backend == SMTP_BACKEND:
    _mail_options = {
        "host": env_str("DJANGO_EMAIL_HOST", "localhost"),
        "port": env_int("DJANGO_EMAIL_PORT", 25, minimum=1),
        "username": env_str("DJANGO_EMAIL_HOST_USER"),
        "password": env_str("DJANGO_EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
        "use_ssl": env_bool("DJANGO_EMAIL_USE_SSL", False),
        "timeout": 10,
    }
    if _mail_options["use_tls"] and _mail_options["use_ssl"]:
        raise ImproperlyConfigured("Set only one of DJANGO_EMAIL_USE_TLS and DJANGO_EMAIL_USE_SSL.")
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "EaseBack <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A reset link works once (it is tied to the password it replaces) and for this long.
PASSWORD_RESET_TIMEOUT = env_int("DJANGO_PASSWORD_RESET_SECONDS", 3600, minimum=60)

# Sessions end after two weeks without a visit: accounts.middleware.SlidingSessionMiddleware
# pushes the expiry on at most once an hour, so a page view does not write the session.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", 14 * 24 * 3600, minimum=60)
SESSION_SAVE_EVERY_REQUEST = False
# Login sessions carry their user's id in an indexed column (accounts.models.LoginSession),
# so signing one user out everywhere does not read anyone else's sessions.
# With a shared cache, sessions are read from it and written through to the database.
SESSION_ENGINE = "accounts.cached_sessions" if CACHE_IS_SHARED else "accounts.sessions"
# Flash messages live in the session: no cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Share links: opens of /shared/ pages allowed per client address in 10 minutes
# (counted in the database, so across every worker).
SHARE_OPEN_LIMIT = env_int("DJANGO_SHARE_OPEN_LIMIT", 30, minimum=1)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_time_zone("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 60 if DEBUG else 365 * 24 * 3600
# Read from the environment, not from the DEBUG that pytest-django switches off: with
# debug settings WhiteNoise serves straight from the finders (no collectstatic needed),
# also in tests, so static responses are checked for the same headers as pages.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Our files are only for our own pages (Cross-Origin-Resource-Policy: same-origin too).
WHITENOISE_ALLOW_ALL_ORIGINS = False

# Security headers (see config/middleware.py for the ones Django has no setting for).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "worker-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# The container's own health check asks over plain HTTP from inside; it carries no cookie.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
if not DEBUG:
    # __Host- cookies are only accepted over HTTPS, for the whole host, with no Domain.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Web Push (reminders): a VAPID key pair from `manage.py generate_vapid_keys`; push is off
# until both keys are set. The subject tells push services whom to contact.
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:reminders@easeback.invalid")
if bool(VAPID_PUBLIC_KEY) != bool(VAPID_PRIVATE_KEY):
    raise ImproperlyConfigured("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together.")
if not VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise ImproperlyConfigured(
        f"VAPID_SUBJECT must start with mailto: or https:// (got {VAPID_SUBJECT!r})."
    )
# Calendar feed requests allowed per client address per hour (counted in the database).
REMINDERS_FEED_REQUESTS_PER_HOUR = env_int("REMINDERS_FEED_REQUESTS_PER_HOUR", 60, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "WARNING")},
    # A locked-out login is expected traffic, not an error worth a stack trace.
    "loggers": {"axes": {"level": "WARNING"}},
}
