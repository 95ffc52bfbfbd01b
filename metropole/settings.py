"""Settings of Métropole, read from environment variables (12-factor).

Every variable is documented in docs/configuration.md. Defaults give a working
embedded install (SQLite, console e-mail); production sets DATABASE_URL,
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and turns DJANGO_DEBUG off.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("METROPOLE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")
TESTING = env_bool("METROPOLE_TESTING")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not TESTING:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for a local demo).")
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The metropole this install serves, by SIREN (Métropole Européenne de Lille by default).
METROPOLE_SIREN = os.environ.get("METROPOLE_SIREN", "200093201")
# The public address, for links in messages sent by background tasks (no request to read it from).
METROPOLE_BASE_URL = os.environ.get("METROPOLE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Optional raster base map under the commune polygons, e.g. a self-hosted tile server.
# Empty: polygons are drawn on a plain background and no third party is contacted.
METROPOLE_BASEMAP_URL = os.environ.get("METROPOLE_BASEMAP_URL", "")
METROPOLE_BASEMAP_ATTRIBUTION = os.environ.get("METROPOLE_BASEMAP_ATTRIBUTION", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks_db",
    "ninja",
    "rules.apps.AutodiscoverRulesConfig",
    "metropole.core",
    # Capability modules; each registers itself with the core through its module.py manifest.
    "metropole.notifications",  # e-mail and SMS, recorded with their outcome
    "metropole.connectors",  # calls to the communes' business software
    "metropole.catalogue",  # services and who holds which competence
    "metropole.procedures",  # online procedures (démarches) and their back-office
    "metropole.reports",  # reports on public space, Open311
    "metropole.appointments",  # appointments (rendez-vous)
    "metropole.datahub",  # data catalogue, ingestion, query API, open-data portal
    "metropole.harvest",  # DCAT-AP, CKAN and OpenDataSoft harvesting
    "metropole.participation",  # participatory processes
    "metropole.steering",  # strategy steering and hypervision
]
# More apps (a territory's own modules) can be added without editing this file.
INSTALLED_APPS += [app for app in env_list("METROPOLE_EXTRA_APPS") if app not in INSTALLED_APPS]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Django's gzip carries the BREACH mitigation (random padding); whitenoise serves
    # static files pre-compressed.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Both run before any view reads the body (CSRF reads it in process_view, later).
    "metropole.core.middleware.RequestSizeLimitMiddleware",
    "metropole.core.middleware.RejectNulCharactersMiddleware",
    "metropole.core.middleware.CurrentTerritoryMiddleware",
    "metropole.core.views.helpers.PlatformErrorMiddleware",
]

ROOT_URLCONF = "metropole.urls"
WSGI_APPLICATION = "metropole.wsgi.application"

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
                "django.template.context_processors.csp",
                "metropole.core.context_processors.platform",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'metropole.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web server reads; the timeout waits out short locks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file too, not SQLite's in-memory database: with that one, the live server of
    # the browser tests shares the test thread's single connection between its request threads,
    # and two requests at once (a map page fetching its layers) corrupt each other's queries.
    # One file per test process (pytest-xdist's workers are processes), so that two test runs
    # at once never delete each other's database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"metropole-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:account"
LOGOUT_REDIRECT_URL = "core:home"
# How long an e-mail verification link stays valid.
ACCOUNT_VERIFICATION_MAX_AGE = int(os.environ.get("METROPOLE_VERIFICATION_MAX_AGE", 3 * 24 * 3600))
# Failed log-ins allowed per address and per account in LOGIN_RATE_WINDOW seconds.
LOGIN_RATE_LIMIT = int(os.environ.get("METROPOLE_LOGIN_RATE_LIMIT", "10"))
LOGIN_RATE_WINDOW = int(os.environ.get("METROPOLE_LOGIN_RATE_WINDOW", "900"))

# OpenID Connect providers (FranceConnect for citizens, ProConnect for agents).
# A provider is enabled when its discovery URL and client credentials are set.
OIDC_PROVIDERS = {
    name: {
        "label": label,
        "discovery_url": os.environ.get(f"{prefix}_DISCOVERY_URL", ""),
        "client_id": os.environ.get(f"{prefix}_CLIENT_ID", ""),
        "client_secret": os.environ.get(f"{prefix}_CLIENT_SECRET", ""),
        "scope": os.environ.get(f"{prefix}_SCOPE", default_scope),
        "acr_values": os.environ.get(f"{prefix}_ACR_VALUES", ""),
    }
    for name, label, prefix, default_scope in [
        ("franceconnect", "FranceConnect", "FRANCECONNECT", "openid email given_name family_name"),
        # ProConnect names the family name `usual_name`.
        ("proconnect", "ProConnect", "PROCONNECT", "openid email given_name usual_name"),
    ]
}

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "metropole" / "locale"]
FORMAT_MODULE_PATH = ["metropole.formats"]  # English dates day first: metropole/formats/en
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files need `collectstatic`, done at deployment; not in dev and tests.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# Uploaded logos are small images; anything larger is refused before it reaches memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
BRANDING_LOGO_MAX_BYTES = 512 * 1024

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
        if os.environ.get("REDIS_URL")
        # Shared by every process of the install (web workers and task worker),
        # which the log-in rate limit needs; Redis is the scale-out path.
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "metropole_cache",
        }
    )
}

TASKS = {
    "default": {
        "BACKEND": os.environ.get("METROPOLE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

_mail_backend = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "metropole.core.mail.ReadableConsoleBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS"),
        }
        if _mail_backend.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Métropole <ne-pas-repondre@localhost>")

# Security. Cookies are secure whenever the site is served over HTTPS (not in local demo).
SECURE_HTTPS = env_bool("METROPOLE_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if SECURE_HTTPS:
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
_basemap_origin = env_list("METROPOLE_BASEMAP_ORIGIN")
# Log-in buttons of OpenID Connect providers post to us and we redirect to the provider:
# browsers (Chrome) check that redirect against form-action too.
_oidc_origins = sorted(
    {
        "{0.scheme}://{0.netloc}".format(urlsplit(conf["discovery_url"]))
        for conf in OIDC_PROVIDERS.values()
        if conf["discovery_url"] and conf["client_id"]
    }
)
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *_basemap_origin],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF, *_oidc_origins, *env_list("METROPOLE_CSP_FORM_ACTION")],
    "frame-ancestors": [CSP.NONE],
}


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" its own console handler as well; it would
        # print every record of django.* (e.g. each task's state) a second time via root.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}
