"""Settings come only from the environment (one node = one env file).

STRONGROOM_ENV_FILE names the node's env file; variables already set in the
environment win. A value that does not parse stops start-up with its name.
"""
import ipaddress
import os
from pathlib import Path

import environ
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from strongroom.env import StrictEnv
from strongroom.envfile import read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent

# Every secret may come from VAR_FILE instead of VAR (strongroom/env.py).
env = StrictEnv()
_env_file = environ.Env().str("STRONGROOM_ENV_FILE", default="")
if _env_file:
    if not Path(_env_file).is_file():
        raise ImproperlyConfigured(f"STRONGROOM_ENV_FILE={_env_file} does not exist")
    environ.Env.read_env(_env_file, overwrite=False)
# The HA commands keep the node's role and replication settings in <HA dir>/ha.env.
HA_DIR = Path(env.str("STRONGROOM_HA_DIR", default=str(BASE_DIR / "var" / "ha")))
_ha_role = read_env_file(HA_DIR / "ha.env").get("STRONGROOM_ROLE", "")
# What the environment and the env file set win over ha.env, here and where
# ha/nodeconfig.py re-reads ha.env while the process runs.
ENV_OVER_HA = frozenset(os.environ)
if (HA_DIR / "ha.env").is_file():
    environ.Env.read_env(str(HA_DIR / "ha.env"), overwrite=False)

_BOOLEANS = {"true": True, "1": True, "yes": True, "on": True,
             "false": False, "0": False, "no": False, "off": False}


def env_bool(name: str, default: bool) -> bool:
    """Strict: django-environ would read any unknown word (even a typo) as False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw not in _BOOLEANS:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")
    return _BOOLEANS[raw]


def env_number(name: str, default=None, *, cast=int):
    raw = env.str(name) if default is None else env.str(name, default=str(default))
    try:
        return cast(raw)
    except (TypeError, ValueError):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a valid {cast.__name__}") from None


SECRET_KEY = env.str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- The node -------------------------------------------------------------
NODE_NAME = env.str("STRONGROOM_NODE_NAME")
# The HA commands own the role: what ha_setup (primary) or ha_install_pack (secondary)
# wrote in ha.env wins over the env file's, which only says what a node is before
# them (R-H6: a node the pack made a secondary stays one, whatever its env says).
NODE_ROLE = _ha_role or env.str("STRONGROOM_ROLE", default="standalone")
if NODE_ROLE not in {"standalone", "primary", "secondary", "fenced"}:
    _where = f" (in {HA_DIR / 'ha.env'})" if _ha_role else ""
    raise ImproperlyConfigured(f"STRONGROOM_ROLE={NODE_ROLE!r}{_where}: expected "
                               f"standalone, primary, secondary or fenced")
MASTER_KEY_FILE = Path(env.str("STRONGROOM_MASTER_KEY_FILE"))
# Only the HA commands use the admin account (replication, grants, snapshots).
DB_ADMIN_USER = env.str("DB_ADMIN_USER", default="")
DB_ADMIN_PASSWORD = env.str("DB_ADMIN_PASSWORD", default="")
# A secondary's way back to the primary's database: replication and audit shipping.
PRIMARY_DB_HOST = env.str("PRIMARY_DB_HOST", default="")
PRIMARY_DB_PORT = env_number("PRIMARY_DB_PORT", 3306)
AUDIT_SHIPPER_USER = env.str("AUDIT_SHIPPER_USER", default="")
AUDIT_SHIPPER_PASSWORD = env.str("AUDIT_SHIPPER_PASSWORD", default="")
# ha_resync's account on the primary: a consistent dump of the replicated schema only.
SNAPSHOT_USER = env.str("SNAPSHOT_USER", default="")
SNAPSHOT_PASSWORD = env.str("SNAPSHOT_PASSWORD", default="")
# Seconds a re-authentication stays fresh before a reveal; 0 turns the prompt off.
REVEAL_REAUTH_SECONDS = env_number("STRONGROOM_REVEAL_REAUTH_SECONDS", 0)
# Seconds the password typed at login or on the re-authentication page stays fresh for
# what takes over an account or silences alerts (resetting someone's password or
# two-factor, a role change, a new API token, the alert settings); 0 turns it off.
SENSITIVE_REAUTH_SECONDS = env_number("STRONGROOM_SENSITIVE_REAUTH_SECONDS", 900)
# Seconds a revealed password stays on screen (its copy button too): a page left open
# must not keep showing it.
REVEAL_HIDE_SECONDS = env_number("STRONGROOM_REVEAL_HIDE_SECONDS", 30)
if not 1 <= REVEAL_HIDE_SECONDS <= 3600:
    raise ImproperlyConfigured("STRONGROOM_REVEAL_HIDE_SECONDS must be between 1 and 3600")
# API tokens: lifetime when none is asked for, the longest allowed, and how stale the
# shown last use may be (it is written at most once per this many seconds).
API_TOKEN_DEFAULT_DAYS = env_number("STRONGROOM_API_TOKEN_DAYS", 90)
API_TOKEN_MAX_DAYS = env_number("STRONGROOM_API_TOKEN_MAX_DAYS", 365)
API_TOKEN_LAST_USED_SECONDS = env_number("STRONGROOM_API_TOKEN_LAST_USED_SECONDS", 300)
# Read-your-writes: how long a secondary waits for a write's GTID before a 503 (it
# holds a worker meanwhile), and how often a node re-reads the schemas' migrations.
GTID_WAIT_SECONDS = env_number("STRONGROOM_GTID_WAIT_SECONDS", 2.0, cast=float)
VERSION_CHECK_SECONDS = env_number("STRONGROOM_VERSION_CHECK_SECONDS", 30.0, cast=float)
if not 0 < GTID_WAIT_SECONDS <= 30:
    raise ImproperlyConfigured("STRONGROOM_GTID_WAIT_SECONDS must be above 0 and at most 30")
if not 1 <= API_TOKEN_DEFAULT_DAYS <= API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured("STRONGROOM_API_TOKEN_DAYS must be between 1 and "
                               "STRONGROOM_API_TOKEN_MAX_DAYS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",  # its system checks catch a policy in the settings of django-csp 3
    "django_otp",
    "axes",
    "accounts",
    "vault",
    "audit",
    "ha",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every page, error and read-only pages included (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Before anything reads a table: code and schema of different releases get a 503.
    "ha.middleware.VersionSkewMiddleware",
    "ha.middleware.StalenessMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.RequireVerifiedOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ha.middleware.ReadOnlyNodeMiddleware",
    "ha.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]
# /api/ (strongroom.handlers): the layers above that a bearer-token request needs, in
# the same order. It carries no cookie and logs in with no password, so it has no
# session, CSRF token, two-factor state, flash messages or login lockout to handle.
# CommonMiddleware stays: it checks the Host header against ALLOWED_HOSTS.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ha.middleware.VersionSkewMiddleware",
    "ha.middleware.StalenessMiddleware",
    "django.middleware.common.CommonMiddleware",
    "ha.middleware.ReadOnlyNodeMiddleware",
    "ha.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "strongroom.urls"
WSGI_APPLICATION = "strongroom.wsgi.application"

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
                "ha.context_processors.node",
            ],
        },
    },
]

# --- Databases: `default` is replicated, `local` never leaves this node ------
_db_common = {
    "ENGINE": "strongroom.mysql",  # Django's, with a cheaper health check
    "HOST": env.str("DB_HOST", default="127.0.0.1"),
    "PORT": env_number("DB_PORT"),
    "USER": env.str("DB_USER"),
    "PASSWORD": env.str("DB_PASSWORD"),
    "CONN_MAX_AGE": env_number("DB_CONN_MAX_AGE", 60),
    "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {"charset": "utf8mb4", "isolation_level": "read committed"},
}
# Two suites may share one server (a developer and CI): give each its own suffix.
_test_suffix = env.str("TEST_DB_SUFFIX", default="")
DATABASES = {
    "default": {**_db_common, "NAME": env.str("DB_NAME", default="strongroom"),
                "TEST": {"NAME": f"test_strongroom{_test_suffix}"}},
    "local": {**_db_common, "NAME": env.str("DB_LOCAL_NAME", default="strongroom_local"),
              "TEST": {"NAME": f"test_strongroom_local{_test_suffix}"}},
}
DATABASE_ROUTERS = ["ha.router.NodeRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.NodeModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "vault:resource_list"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env_number("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_number("AXES_COOLOFF_HOURS", 0.25, cast=float)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts while locked are refused and audited but do not restart the cool-off.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Reverse proxies in front of this node, each appending to X-Forwarded-For; the
# one client address (lockout and audit alike) is resolved from it.
CLIENT_PROXY_COUNT = env_number("AXES_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = False

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Strongroom")

# --- Sessions and cookies --------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_number("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
_https = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
SECURE_PROXY_SSL_HEADER = (("HTTP_X_FORWARDED_PROTO", "https")
                           if env_bool("BEHIND_TLS_PROXY", False) else None)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts and styles from this node's static files only: no inline script, event
# attribute or style attribute runs, so an injected one cannot read a revealed password.
CONTENT_SECURITY_POLICY = {"DIRECTIVES": {
    "default-src": [CSP_NONE], "script-src": [CSP_SELF], "style-src": [CSP_SELF],
    "img-src": [CSP_SELF], "connect-src": [CSP_SELF], "form-action": [CSP_SELF],
    "base-uri": [CSP_NONE], "frame-ancestors": [CSP_NONE], "object-src": [CSP_NONE]}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Celery -------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every node runs the same schedule; each task does nothing on the wrong role.
CELERY_BEAT_SCHEDULE = {
    "audit-seal": {"task": "audit.tasks.seal_audit_trail", "schedule": 10.0},
    "ha-heartbeat": {"task": "ha.tasks.write_heartbeat", "schedule": 1.0,
                     "options": {"expires": 2}},
    "audit-ship": {"task": "audit.tasks.ship_audit_outbox",
                   "schedule": env_number("AUDIT_SHIP_SECONDS", 1.0, cast=float),
                   "options": {"expires": 10}},
    # HA statuses (ha/monitoring/status.py): each run skips if the previous one still runs.
    "ha-check": {"task": "ha.tasks.check_status", "schedule": 1.0,
                 "options": {"expires": 1}},
    "ha-report": {"task": "ha.tasks.report_to_primary", "schedule": 1.0,
                  "options": {"expires": 1}},
}

# --- HA statuses -------------------------------------------------------------------
# The primary writes its heartbeat every second: older than this on the secondary,
# the primary or the link is down (High Availability Failed at once).
HA_HEARTBEAT_STALE_SECONDS = env_number("HA_HEARTBEAT_STALE_SECONDS", 2.5, cast=float)
# The secondary reports every second: silent this long, the primary says Failed.
HA_REPORT_STALE_SECONDS = env_number("HA_REPORT_STALE_SECONDS", 4.0, cast=float)
# How long a new status must hold before it is confirmed: (to Failed, to Alive).
HA_CONFIRM_SECONDS = (env_number("HA_CONFIRM_FAILED_SECONDS", 0.9, cast=float),
                      env_number("HA_CONFIRM_ALIVE_SECONDS", 1.5, cast=float))
# Zero-data-loss mode (semi-synchronous replication, set up by the node installer's
# --zero-data-loss): the primary's check reports its fall back to asynchronous as Failed.
HA_ZERO_DATA_LOSS = env_bool("HA_ZERO_DATA_LOSS", False)
# No successful check for this long: the statuses are Unknown, never a stale Alive.
HA_CHECK_STALE_SECONDS = env_number("HA_CHECK_STALE_SECONDS", 5.0, cast=float)
# Who may read /ha/status and /metrics without a session (CIDR list); /health* is open.
try:
    STATUS_NETWORKS = [ipaddress.ip_network(network) for network in
                       env.list("STATUS_NETWORKS", default=["127.0.0.0/8", "::1/128"])]
except ValueError as exc:
    raise ImproperlyConfigured(f"STATUS_NETWORKS: {exc}") from None

# --- Alerts on HA transitions (R-H8) ----------------------------------------------------
# The SMTP server and its account are this node's (Django's EMAIL_* names); the targets
# and each event's channels are chosen on the alerts page (replicated).
EMAIL_HOST = env.str("EMAIL_HOST", default="127.0.0.1")
EMAIL_PORT = env_number("EMAIL_PORT", 25)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL exclude each other")
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")  # or EMAIL_HOST_PASSWORD_FILE
EMAIL_TIMEOUT = env_number("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"strongroom@{NODE_NAME}")
ALERT_EMAIL_TO = env.list("STRONGROOM_ALERT_EMAIL_TO", default=[])
# The syslog structured data's SD-ID is strongroom@<this>; 32473 is the number RFC 5612
# reserves for documentation: an operator with an own enterprise number sets it here.
ALERT_ENTERPRISE_NUMBER = env_number("STRONGROOM_ALERT_ENTERPRISE_NUMBER", 32473)
ALERT_SYSLOG_FACILITY = env.str("STRONGROOM_ALERT_SYSLOG_FACILITY", default="local0")
ALERT_SNMP_COMMUNITY = env.str("STRONGROOM_ALERT_SNMP_COMMUNITY", default="public")
ALERT_SEND_TIMEOUT = env_number("STRONGROOM_ALERT_SEND_TIMEOUT", 5.0, cast=float)
# Attempts per alert and channel; the wait doubles from the first delay up to the cap.
ALERT_MAX_ATTEMPTS = env_number("STRONGROOM_ALERT_MAX_ATTEMPTS", 6)
ALERT_RETRY_SECONDS = env_number("STRONGROOM_ALERT_RETRY_SECONDS", 5.0, cast=float)
ALERT_RETRY_MAX_SECONDS = env_number("STRONGROOM_ALERT_RETRY_MAX_SECONDS", 300.0, cast=float)
if ALERT_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("STRONGROOM_ALERT_MAX_ATTEMPTS must be at least 1")
# A safety net: sends what a lost task message (Redis restarted, say) left pending.
CELERY_BEAT_SCHEDULE["alerts-sweep"] = {"task": "alerts.tasks.sweep_alert_deliveries",
                                        "schedule": 30.0, "options": {"expires": 25}}

# --- Logging: never the request body, never a secret ----------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
