"""Django settings for Morgue.

Everything that differs between a laptop and production comes from the
environment; see the README's configuration table.
"""

import datetime as dt
import ipaddress
import os
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from morgue.roles import parse_group_roles

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MORGUE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment when DEBUG is off.")
    # Development only: never used when DEBUG is off.
    SECRET_KEY = "morgue-development-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
MORGUE_BASE_URL = os.environ.get("MORGUE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

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
    "axes",
    "morgue",
    "incidents",
    "oncall",
    "alerts_review",
]

MIDDLEWARE = [
    "morgue.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so every answer carries it, the ones inner middleware makes (400s, lock-outs) too.
    "morgue.middleware.ContentSecurityPolicyMiddleware",
    # Static files straight from the application (gunicorn alone serves the
    # whole site), before sessions and login so they cost no database query.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "morgue.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "morgue.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "morgue.middleware.LoginRequiredMiddleware",
    "morgue.middleware.TimezoneMiddleware",
    "morgue.middleware.NumberTooLargeMiddleware",
    "morgue.middleware.UnreadableTextMiddleware",
    "morgue.middleware.SignedInSecurityMiddleware",
    # Last, so it turns a refused sign-in by any view (login page, admin) into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "morgue.urls"

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
                "morgue.context_processors.morgue",
            ],
        },
    },
]

# Django's own, with <select> written in Python (morgue.forms.FormRenderer).
FORM_RENDERER = "morgue.forms.FormRenderer"

WSGI_APPLICATION = "morgue.wsgi.application"
ASGI_APPLICATION = "morgue.asgi.application"

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'morgue.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the Celery worker and beat share one file: wait for
    # locks instead of failing, and take the write lock at BEGIN so two
    # writers never deadlock upgrading read locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        # recursive_triggers: rows removed by INSERT OR REPLACE fire delete
        # triggers, so the counts kept by triggers (morgue.counters) see them.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA recursive_triggers=ON;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Signing in (README "Signing in: OpenID Connect and LDAP") ----------------
# Local passwords (Django's own accounts); 0 leaves only the directory's ways in.
MORGUE_LOCAL_PASSWORDS = env_bool("MORGUE_LOCAL_PASSWORDS", True)
# OpenID Connect: on when an issuer is set; its endpoints and keys are discovered
# from <issuer>/.well-known/openid-configuration on first use (morgue/identity/oidc.py).
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "RS256")
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
# People outside every one of these directory groups are refused (empty: anyone the provider signs in).
OIDC_ALLOWED_GROUPS = env_list("OIDC_ALLOWED_GROUPS")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_TIMEOUT = 10
OIDC_CREATE_USER = True
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
if OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET must be set too.")
# Directory groups → team roles, applied at every directory sign-in (morgue.services.apply_group_roles):
# "sre-leads=ops:manager,sre=ops:responder". Roles are viewer, responder, manager; admin is staff status.
try:
    MORGUE_GROUP_ROLES = parse_group_roles(os.environ.get("MORGUE_GROUP_ROLES", ""))
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from error
# LDAP / Active Directory: on when a server is set (morgue/identity/ldap_config.py reads the rest).
LDAP_SERVER_URI = os.environ.get("LDAP_SERVER_URI", "")

AUTHENTICATION_BACKENDS = [
    # First: refuses any attempt while its account and address are locked out.
    "axes.backends.AxesStandaloneBackend",
    *(["morgue.identity.ldap.DirectoryLDAPBackend"] if LDAP_SERVER_URI else []),
    *(["morgue.identity.oidc.DirectoryOIDCBackend"] if OIDC_ISSUER else []),
    "django.contrib.auth.backends.ModelBackend"
    if MORGUE_LOCAL_PASSWORDS
    else "morgue.identity.backends.PermissionsOnlyBackend",
]
if LDAP_SERVER_URI:
    from morgue.identity.ldap_config import ldap_settings

    globals().update(ldap_settings(os.environ))

# Failed sign-ins (django-axes): after AXES_FAILURE_LIMIT failures in a row from one
# address for one account, that pair is refused until MORGUE_SIGNIN_COOLOFF_MINUTES
# pass without another failure. Keyed on the pair, so someone guessing from elsewhere
# never locks the real person out.
AXES_FAILURE_LIMIT = int(os.environ.get("MORGUE_SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("MORGUE_SIGNIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "morgue.identity.backends.lockout_response"
AXES_VERBOSE = False
# The address is the connection's (REMOTE_ADDR): a forwarded-for header is the caller's to forge.
AXES_CLIENT_IP_CALLABLE = "morgue.identity.backends.client_address"
AXES_WHITELIST_CALLABLE = "morgue.identity.backends.is_not_a_password"

# Sessions end after this long without a request (each request pushes the end back;
# morgue/sessions.py).
SESSION_COOKIE_AGE = int(os.environ.get("MORGUE_SESSION_IDLE_MINUTES", str(8 * 60))) * 60
SESSION_ENGINE = "morgue.sessions"
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation and time ----------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- Static and media files -------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploaded and captured files (graph snapshots) live in the database by
# default, so every web host and worker sees them; MORGUE_FILE_STORAGE=s3 keeps
# them in an S3-compatible bucket (django-storages), and =filesystem under
# MEDIA_ROOT (one host only).
FILE_STORAGE_BACKENDS = {
    "database": "morgue.storage.DatabaseStorage",
    "filesystem": "django.core.files.storage.FileSystemStorage",
    "s3": "storages.backends.s3.S3Storage",
}
MORGUE_FILE_STORAGE = os.environ.get("MORGUE_FILE_STORAGE", "").strip().lower() or "database"
if MORGUE_FILE_STORAGE not in FILE_STORAGE_BACKENDS:
    raise ImproperlyConfigured(
        f"MORGUE_FILE_STORAGE must be one of {', '.join(FILE_STORAGE_BACKENDS)}, not {MORGUE_FILE_STORAGE!r}."
    )
FILE_STORAGE_OPTIONS: dict[str, object] = {}
if MORGUE_FILE_STORAGE == "s3":
    if not os.environ.get("AWS_STORAGE_BUCKET_NAME", "").strip():
        raise ImproperlyConfigured(
            "MORGUE_FILE_STORAGE=s3 needs the bucket's name in AWS_STORAGE_BUCKET_NAME."
        )
    # The keys are boto3's own: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the
    # environment, or the host's role. Objects are private: Morgue reads them and
    # serves them to signed-in people itself, never by a bucket address.
    FILE_STORAGE_OPTIONS = {
        "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"].strip(),
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL", "").strip() or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME", "").strip() or None,
        "location": os.environ.get("AWS_LOCATION", "").strip().strip("/"),
        # Path-style addresses (http://host/bucket/key) work with every S3-compatible server.
        "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE", "path").strip(),
        # Two workers storing the same name get two objects, as with the database storage.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }
STORAGES = {
    "default": {"BACKEND": FILE_STORAGE_BACKENDS[MORGUE_FILE_STORAGE], "OPTIONS": FILE_STORAGE_OPTIONS},
    # In production `collectstatic` writes each file under a name carrying a
    # hash of its content, a gzip copy alongside; WhiteNoise serves them
    # with a far-future cache header. `make run` serves the source folders.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if DEBUG:
    # Development serves the source folders; STATIC_ROOT need not exist.
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")

# Request bodies larger than this are refused before a view sees them.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024))

# --- Incidents ----------------------------------------------------------------
# The words for each severity level (1 is the worst), replacing the defaults
# in incidents/models/incident.py; e.g. {1: "1 – site down", 2: "2 – …"}.
MORGUE_SEVERITY_LABELS: dict[int, str] = {}
# Weeks from writing a remediation item to its default due date, by the
# incident's severity (items from an alerts review use severity 3's).
MORGUE_REMEDIATION_DUE_WEEKS: dict[int, int] = {1: 4, 2: 4, 3: 8, 4: 8, 5: 8}

# --- Incident evidence ------------------------------------------------------
# Graph snapshots are fetched from URLs people paste; private, loopback and
# link-local addresses are refused unless the host (or host:port) is listed here.
# Reaching a person (README "Reaching a person"): SMS and calls through a
# Twilio-compatible API, push through ntfy. Empty means that channel is off.
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
TWILIO_API_URL = os.environ.get("TWILIO_API_URL", "https://api.twilio.com").rstrip("/")
NTFY_URL = os.environ.get("NTFY_URL", "").rstrip("/")
NTFY_TOKEN = os.environ.get("NTFY_TOKEN", "")

# Trackers remediation items become issues in (incidents/trackers.py). A team names its
# tracker's kind, address and project in the database; the credentials are only these.
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
GITHUB_WEBHOOK_SECRET = os.environ.get("GITHUB_WEBHOOK_SECRET", "")
GITLAB_URL = os.environ.get("GITLAB_URL", "https://gitlab.com").rstrip("/")
GITLAB_TOKEN = os.environ.get("GITLAB_TOKEN", "")
GITLAB_WEBHOOK_SECRET = os.environ.get("GITLAB_WEBHOOK_SECRET") or os.environ.get("GITLAB_WEBHOOK_TOKEN", "")
JIRA_URL = os.environ.get("JIRA_URL", "").rstrip("/")
JIRA_EMAIL = os.environ.get("JIRA_EMAIL") or os.environ.get("JIRA_USER", "")
JIRA_API_TOKEN = os.environ.get("JIRA_API_TOKEN") or os.environ.get("JIRA_TOKEN", "")
JIRA_WEBHOOK_SECRET = os.environ.get("JIRA_WEBHOOK_SECRET", "")
TRACKER_TIMEOUT_SECONDS = float(os.environ.get("TRACKER_TIMEOUT_SECONDS", "10"))
GRAPH_FETCH_ALLOWED_HOSTS = [host.lower() for host in env_list("GRAPH_FETCH_ALLOWED_HOSTS")]
# Alert sources' Alertmanager URLs (silences on acknowledging): private, loopback
# and link-local addresses are refused unless the host (or host:port) is listed here.
ALERTMANAGER_ALLOWED_HOSTS = [host.lower() for host in env_list("ALERTMANAGER_ALLOWED_HOSTS")]
# Alerts older than this many calendar months are pruned nightly (at least 3); empty keeps them all.
ALERT_RETENTION_MONTHS = os.environ.get("ALERT_RETENTION_MONTHS", "").strip()
# Running incidents from chat (README "Slack and Mattermost"). Empty means that side is off:
# no bot token, no channels; no signing secret (or command token), every command refused.
SLACK_BOT_TOKEN = os.environ.get("SLACK_BOT_TOKEN", "")
SLACK_SIGNING_SECRET = os.environ.get("SLACK_SIGNING_SECRET", "")
SLACK_API_URL = os.environ.get("SLACK_API_URL", "https://slack.com/api").rstrip("/")
MATTERMOST_COMMAND_TOKEN = os.environ.get("MATTERMOST_COMMAND_TOKEN", "")
MATTERMOST_WEBHOOK_URL = os.environ.get("MATTERMOST_WEBHOOK_URL", "")
# How far before impact started "Deploys before this incident" looks.
DEPLOY_SUGGESTION_MINUTES = int(os.environ.get("DEPLOY_SUGGESTION_MINUTES", "60"))

# --- Email ------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = 10
# A send a worker claimed and never finished (it was killed mid-send) is taken
# over by another worker after these leases: a page's notification, and the
# email it sends (a page email waits for both). Far longer than a send takes;
# the rehearsal (tests/production) shortens both to seconds.
NOTIFICATION_CLAIM_LEASE = dt.timedelta(
    seconds=int(os.environ.get("NOTIFICATION_CLAIM_LEASE_SECONDS", "300"))
)
EMAIL_CLAIM_LEASE = dt.timedelta(seconds=int(os.environ.get("EMAIL_CLAIM_LEASE_SECONDS", "240")))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "morgue@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) --------------------------------------------------
# Covering indexes (INCLUDE) are a PostgreSQL feature; SQLite simply indexes
# the key columns, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# No page uses these browser features (morgue.middleware.SignedInSecurityMiddleware sends it).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Scripts only from Morgue's own files (morgue.middleware.ContentSecurityPolicyMiddleware);
# inline styles remain (style attributes, a few <style> blocks), scripts never.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# ReDoc renders the schema in a web worker it starts from a blob: address.
CONTENT_SECURITY_POLICY_REDOC = CONTENT_SECURITY_POLICY + "; worker-src 'self' blob:"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is hard to undo: an organisation
        # opts in with SECURE_HSTS_PRELOAD=1, so the warning is not an error here.
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    # /healthz is probed over plain HTTP by load balancers.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    if env_bool("SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Audit trail ------------------------------------------------------------
# How many proxies in front of Morgue append to X-Forwarded-For; the audit
# trail records the address the nearest one saw (0: the connection's address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a refused request is a 401 with `WWW-Authenticate: Bearer` (DRF asks the first class).
        "morgue.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out; a browser that opens an API address gets the JSON too
    # (the interactive docs are /api/docs/).
    "DEFAULT_PARSER_CLASSES": [
        "morgue.fields.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["morgue.fields.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "morgue.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "morgue.rest.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "morgue.rest.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Morgue API",
    "DESCRIPTION": "Incidents, blameless postmortems, on-call rotations and alert review.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status` or `kind`: name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.incident.Status",
        "EventKindEnum": "incidents.models.timeline.EventKind",
        "RemediationStatusEnum": "incidents.models.remediation.RemediationStatus",
        "RemediationKindEnum": "incidents.models.remediation.RemediationKind",
        "SnapshotStatusEnum": "incidents.models.graph.SnapshotStatus",
        "SwapStatusEnum": "oncall.models.SwapStatus",
        "PageStatusEnum": "oncall.models.PageStatus",
    },
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_FOLDER = Path(os.environ.get("CELERY_BROKER_FOLDER", VAR_DIR / "celery" / "queue"))
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "processed_folder": str(CELERY_BROKER_FOLDER.parent / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER.parent / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Tasks are acked late; a task not acked within the visibility timeout (an
    # hour unless set) is given to another worker: what a worker killed
    # mid-task held runs again then. Tasks are idempotent, so the redelivery of
    # a task that is merely slow, or waits for its countdown, does no harm.
    _visibility_timeout = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": _visibility_timeout,
        # Each worker looks for messages past the timeout this often (kombu's
        # default, 10 s times a throttle of 10, leaves a dead worker's task
        # waiting up to 100 s more than the timeout).
        "unacked_restore_interval": max(1, min(10, _visibility_timeout // 2)),
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TIMEZONE = "UTC"

# --- Metrics ----------------------------------------------------------------
# GET /metrics answers these networks (loopback by default), or anyone sending
# Authorization: Bearer <METRICS_TOKEN>. PROMETHEUS_MULTIPROC_DIR (read by
# prometheus_client itself) sums every process's figures on a host.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network, strict=False)
        for network in env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
    ]
except ValueError as error:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {error}.") from error

# --- Logging ----------------------------------------------------------------
# `json`: one JSON object a line with the request id (morgue/logs.py), for a log shipper.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "morgue.logs.RequestIdFilter"}},
    "formatters": {"json": {"()": "morgue.logs.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
