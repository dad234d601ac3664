"""Settings for the advocacy platform, all read from the environment here and nowhere else.

Every variable, its default and its meaning is listed in the README table. The defaults
are for one developer machine (`make run`): the local PostgreSQL, a broker that needs no server,
e-mail printed to the console. Production names PostgreSQL, Redis and real secrets.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off. Set DEBUG=1 for local development.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public origin used in links that leave the request cycle (e-mails sent by workers).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The audit chain's HMAC keys, newest first, as "id:secret" (the id is stored with each entry,
# so older keys stay listed to verify older entries). Unset: one key derived from SECRET_KEY,
# id "s1" (fine for one machine; production names its own and keeps it apart from the database).
AUDIT_HMAC_KEYS = env.list("AUDIT_HMAC_KEYS", default=[])
# Who answers the TXT look-ups that prove a self sign-up domain (host:port, comma-separated);
# empty = the machine's resolver.
DNS_NAMESERVERS = env.list("DNS_NAMESERVERS", default=[])
DNS_TIMEOUT = env.float("DNS_TIMEOUT", default=3.0)

INSTALLED_APPS = [
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "advocacy",
    "networks",
    "accounts",
    "content",
    "compliance",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "advocacy.tenancy.OrganizationMiddleware",
    "accounts.sso.sessions.SsoSessionMiddleware",
    "advocacy.timezones.ViewerTimeZoneMiddleware",
    "advocacy.languages.ViewerLanguageMiddleware",
    "advocacy.audit.AuditContextMiddleware",
]

ROOT_URLCONF = "advocacy.urls"
WSGI_APPLICATION = "advocacy.wsgi.application"
ASGI_APPLICATION = "advocacy.asgi.application"

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
                "accounts.context_processors.navigation",
                "accounts.context_processors.unread_notifications",
                "accounts.context_processors.guidelines_banner",
            ],
            # `when` / `when_text` / `updated_at` on every page and e-mail: one way to show a time.
            "builtins": ["advocacy.templatetags.zones"],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------

if "DATABASE_URL" not in env:
    VAR_DIR.mkdir(exist_ok=True)
# PostgreSQL only (the SQL is PostgreSQL's); `make check-migrations` alone names an in-memory SQLite.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/advocacy_dev")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env.bool("DB_JIT", default=False):
    # PostgreSQL's JIT compiles "expensive-looking" plans; on our short page queries it
    # costs more than it saves (bench/feed.py: 30 ms of JIT on a 10 ms query).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share the file in `make run`; wait for locks rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# The role the application runs as, when the migrations run as another (the owner): `migrate`
# grants it what it needs and only SELECT and INSERT on the audit trail (advocacy/dbroles.py).
DATABASE_APP_ROLE = env.str("DATABASE_APP_ROLE", default="")
DATABASE_APP_PASSWORD = env.str("DATABASE_APP_PASSWORD", default="")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="advocacy"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Identity ----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_ALLOW_SIGNUPS = env.bool("ACCOUNT_ALLOW_SIGNUPS", default=True)
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.signup.SignupZoneForm"  # the browser's time zone, hidden
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {
    # Per client address (IPv4, or an IPv6 /64), across all accounts: login submissions, and
    # wrong passwords (password spraying). No per-account ("key") part: its hard lock let
    # anyone lock anyone out; accounts.login_throttle slows each account progressively instead.
    "login": env.str("LOGIN_RATE", default="30/m/ip"),
    "login_failed": env.str("LOGIN_FAILED_RATE", default="20/5m/ip"),
}
# Failed-login delays (accounts.login_throttle): per account and source, free attempts, then
# a wait that doubles per failure up to a cap, forgotten a while after the last failure; and
# a cap on failures per account per hour from all sources together (0: no cap).
LOGIN_DELAY_FREE_ATTEMPTS = env.int("LOGIN_DELAY_FREE_ATTEMPTS", default=3)
LOGIN_DELAY_FIRST_SECONDS = env.int("LOGIN_DELAY_FIRST_SECONDS", default=1)
LOGIN_DELAY_MAX_SECONDS = env.int("LOGIN_DELAY_MAX_SECONDS", default=900)
LOGIN_DELAY_FORGET_SECONDS = env.int("LOGIN_DELAY_FORGET_SECONDS", default=86400)
LOGIN_ACCOUNT_FAILURES_PER_HOUR = env.int("LOGIN_ACCOUNT_FAILURES_PER_HOUR", default=50)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Advocacy] "
# Second factor: TOTP, required of staff before they can use /admin/ (advocacy.admin_access).
MFA_SUPPORTED_TYPES = ["totp"]
# Single sign-on per organization (accounts/sso/): no SocialApp rows, the adapter builds each
# organization's app from its SsoConfiguration at request time. State (allauth's own), PKCE on
# for every provider, the OIDC nonce sent and checked by accounts.sso.adapter. Nobody signs up
# through a provider by themselves: provisioning is the adapter's (accounts.services.sso).
# The sign-in's password forms refuse members of SSO-required organizations (accounts.sso.forms).
ACCOUNT_FORMS = {
    "login": "accounts.sso.forms.PasswordLoginForm",
    "reset_password": "accounts.sso.forms.SsoResetPasswordForm",
    "reset_password_from_key": "accounts.sso.forms.SsoResetPasswordKeyForm",
}
SOCIALACCOUNT_ADAPTER = "accounts.sso.adapter.SocialAccountAdapter"
# SAML: allauth's own provider through accounts.sso.saml.OrganizationSAMLProvider (allauth's
# `provider_class` setting), which adds the replay check: an assertion's ID is refused a
# second time until it expires.
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True},
    "saml": {"provider_class": "accounts.sso.saml.OrganizationSAMLProvider"},
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking by e-mail is decided by accounts.services.sso
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the login URL answers a POST (CSRF-protected), never a bare GET
# Minutes an SSO session lasts when the organization sets none (0: until the browser closes).
SSO_SESSION_MINUTES = env.int("SSO_SESSION_MINUTES", default=480)
# Hosts whose OpenID Connect issuer may be plain http (a local provider); every other needs https.
SSO_HTTP_ISSUER_HOSTS = env.list("SSO_HTTP_ISSUER_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
# `make run`'s local OpenID Connect provider (Procfile.dev `oidc`), which seed_demo fills in for Acme.
DEMO_OIDC_ISSUER = env.str("DEMO_OIDC_ISSUER", default="http://127.0.0.1:8769")
# How long a SAML assertion ID is kept when its response names no expiry (seconds); otherwise
# until its SubjectConfirmationData NotOnOrAfter plus the clock skew python3-saml allows (300 s).
SAML_REPLAY_FALLBACK_SECONDS = env.int("SAML_REPLAY_FALLBACK_SECONDS", default=86400)

# --- E-mail ------------------------------------------------------------------------------

vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Advocacy <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Issue 22 (e-mail and Teams): how long the digest's one-click share links work, in seconds;
# which Teams webhook hosts an admin may paste (loopback only with DEBUG, for the emulator).
EMAIL_SHARE_LINK_MAX_AGE = env.int("EMAIL_SHARE_LINK_MAX_AGE", default=7 * 24 * 3600)
TEAMS_WEBHOOK_ALLOW_LOOPBACK = DEBUG and env.bool("TEAMS_WEBHOOK_ALLOW_LOOPBACK", default=True)  # never in production
TEAMS_TIMEOUT = env.float("TEAMS_TIMEOUT", default=10.0)
TEAMS_EMULATOR_PORT = env.int("TEAMS_EMULATOR_PORT", default=8774)  # make run: the demo channel's webhook

# --- Secrets for connected social accounts ----------------------------------------------

# Fernet keys, newest first: the first encrypts, all decrypt (rotate by prepending a key).
# In DEBUG without keys, one is derived from SECRET_KEY (see accounts.crypto).
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])
if not TOKEN_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "TOKEN_ENCRYPTION_KEYS must be set when DEBUG is off (generate one with `python -m accounts.crypto`)."
    )

# --- Social networks ---------------------------------------------------------------------

# Each replaces the scheme and host of every URL of that network, keeping the real paths:
# empty = the real networks; `make run` points them at the local emulator.
NETWORK_EMULATOR_PORT = env.int("NETWORK_EMULATOR_PORT", default=8765)
_emulator = f"http://127.0.0.1:{NETWORK_EMULATOR_PORT}"
_use_emulator = env.bool("USE_NETWORK_EMULATOR", default=DEBUG)
LINKEDIN_ORIGIN = env.str("LINKEDIN_ORIGIN", default=f"{_emulator}/linkedin" if _use_emulator else "")
X_ORIGIN = env.str("X_ORIGIN", default=f"{_emulator}/x" if _use_emulator else "")
FACEBOOK_ORIGIN = env.str("FACEBOOK_ORIGIN", default=f"{_emulator}/facebook" if _use_emulator else "")
LINKEDIN_API_VERSION = env.str("LINKEDIN_API_VERSION", default="202610")
FACEBOOK_GRAPH_VERSION = env.str("FACEBOOK_GRAPH_VERSION", default="v24.0")
NETWORK_TIMEOUT = env.float("NETWORK_TIMEOUT", default=10.0)
# The deployment's own app credentials, used by organizations that enter none of their own.
# With the emulator, demo credentials that `run_network_emulator` registers with it.
NETWORK_APPS = {
    network: (
        env.str(f"{prefix}_{id_name}", default=f"demo-{network}-app" if _use_emulator else ""),
        env.str(f"{prefix}_{secret_name}", default=f"demo-{network}-secret" if _use_emulator else ""),
    )
    for network, prefix, id_name, secret_name in [
        ("linkedin", "LINKEDIN", "CLIENT_ID", "CLIENT_SECRET"),
        ("x", "X", "CLIENT_ID", "CLIENT_SECRET"),
        ("facebook", "FACEBOOK", "APP_ID", "APP_SECRET"),
    ]
}
# The deployment's X app's API Key and Secret (its consumer credentials): they buy the
# app-only bearer token that reads every account's public metrics 100 posts a call
# (analytics.services.metrics). Without them X metrics are read with each author's token.
X_API_KEY = env.str("X_API_KEY", default="demo-x-api-key" if _use_emulator else "")
X_API_SECRET = env.str("X_API_SECRET", default="demo-x-api-secret" if _use_emulator else "")

# --- CRM (issue 17, point 3: HubSpot deals as attributed revenue) --------------------------

# The deployment's HubSpot app; `make run` runs the local HubSpot emulator and registers
# these demo credentials with it. HUBSPOT_ORIGIN replaces app.hubspot.com and api.hubapi.com
# (keeping the real paths): empty = HubSpot itself.
HUBSPOT_EMULATOR_PORT = env.int("HUBSPOT_EMULATOR_PORT", default=8766)
# `make run`'s demo company site (`run_company_site`): a page of Acme's own site carrying the
# conversion snippet and a sign-up form, on http://localhost:<port>/ (another origin than ours).
COMPANY_SITE_PORT = env.int("COMPANY_SITE_PORT", default=8767)
HUBSPOT_ORIGIN = env.str("HUBSPOT_ORIGIN", default=f"http://127.0.0.1:{HUBSPOT_EMULATOR_PORT}" if _use_emulator else "")
HUBSPOT_CLIENT_ID = env.str("HUBSPOT_CLIENT_ID", default="demo-hubspot-app" if _use_emulator else "")
HUBSPOT_CLIENT_SECRET = env.str("HUBSPOT_CLIENT_SECRET", default="demo-hubspot-secret" if _use_emulator else "")
CRM_SYNC_EVERY = env.int("CRM_SYNC_EVERY", default=600)  # seconds between two syncs of a connected CRM

# --- Slack (issue 22, point 1: featured content in Slack, shared from a modal) ----------------

# The deployment's Slack app (client id and secret for the install, signing secret for the
# requests Slack sends to /slack/interactivity/). `make run` runs the local Slack emulator
# and registers these demo credentials with it; SLACK_ORIGIN replaces https://slack.com
# (keeping the real paths, the Web API under /api/): empty = Slack itself.
SLACK_EMULATOR_PORT = env.int("SLACK_EMULATOR_PORT", default=8779)
SLACK_ORIGIN = env.str("SLACK_ORIGIN", default=f"http://127.0.0.1:{SLACK_EMULATOR_PORT}" if _use_emulator else "")
SLACK_CLIENT_ID = env.str("SLACK_CLIENT_ID", default="demo-slack-app" if _use_emulator else "")
SLACK_CLIENT_SECRET = env.str("SLACK_CLIENT_SECRET", default="demo-slack-secret" if _use_emulator else "")
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="demo-slack-signing-secret" if _use_emulator else "")


# --- Web Push (issue 22, point 4: the installable app's notifications) -------------------

# The VAPID key pair (RFC 8292) that signs every push: VAPID_PRIVATE_KEY is a P-256 private
# key in PEM (newlines as \n allowed). Unset: one is generated once into
# PRIVATE_ROOT/webpush/vapid_private.pem and kept (never committed). Set it in production
# when several machines send pushes, or each would sign with its own (browsers subscribe
# to one). VAPID_SUBJECT: how a push service reaches us (mailto: or https:).
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="").replace("\\n", "\n")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:no-reply@localhost")
# Push services a subscription's endpoint may name (https, these hosts and their
# subdomains): the browsers' own. WEB_PUSH_EXTRA_ORIGINS adds exact origins (http allowed),
# for the local push emulator of `make run` and the tests; nothing else is ever posted to.
WEB_PUSH_SERVICE_HOSTS = env.list(
    "WEB_PUSH_SERVICE_HOSTS",
    default=["fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com"],
)
WEBPUSH_EMULATOR_PORT = env.int("WEBPUSH_EMULATOR_PORT", default=8771)
WEB_PUSH_EXTRA_ORIGINS = env.list(
    "WEB_PUSH_EXTRA_ORIGINS", default=[f"http://127.0.0.1:{WEBPUSH_EMULATOR_PORT}"] if _use_emulator else []
)
WEB_PUSH_TTL = env.int("WEB_PUSH_TTL", default=24 * 3600)  # seconds a push service keeps an undelivered push

# --- HTTP security -----------------------------------------------------------------------

# HTTPS=1 in production turns on every transport-security setting together.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load-balancer health checks speak plain HTTP
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): no inline script anywhere (behaviours live in
# static/js), nothing loaded from another origin. Inline style attributes stay allowed (the
# progress bars' widths). Report-only under DEBUG (`make run`: the browser's console names
# what would break), enforced otherwise; the browser tests fail on any violation.
_CSP = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
    # The API's browsable docs (drf-spectacular's Swagger UI and ReDoc) start with inline script.
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/api/redoc/"],
}
if env.bool("CSP_REPORT_ONLY", default=DEBUG):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP
else:
    CONTENT_SECURITY_POLICY = _CSP
# Powerful browser features the product never uses, off for every page.
PERMISSIONS_POLICY = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "display-capture": [],
    "browsing-topics": [],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Internationalisation and static files -----------------------------------------------

# The shipped catalogues (locale/<code>/LC_MESSAGES/django.po; `make messages` refreshes them).
# Whose language a page or an e-mail is in: advocacy.languages.language_for.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "advocacy_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
# Figures are grouped where a page asks for it (`|grouped`, analytics.formatting.number),
# never globally: a global separator would also group ids written into attributes and URLs.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Browser libraries come from npm packages (package.json; `make` runs `npm ci`), never copies.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist")]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Files no URL serves (compliance archives): read only through the views that check who asks.
PRIVATE_ROOT = env.path("PRIVATE_ROOT", default=str(VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_ROOT), "base_url": None},
    },
    "staticfiles": {
        # Hashed, compressed names once `collectstatic` has run (the Docker image sets it).
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Tests and `make run` serve static files straight from the finders, no collectstatic.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_MANIFEST_STRICT = False

# --- REST API ----------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "advocacy.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "advocacy.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "advocacy.schema.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Employee Advocacy API",
    "DESCRIPTION": (
        "Every organization-scoped endpoint lives under `/api/v1/o/{org_slug}/`. "
        "Authenticate with a personal API token (`Authorization: Bearer adv_...`), which is "
        "bound to one user and one organization: it answers 404 for any other organization. "
        "Browser sessions work too (with the CSRF token for writes). Every error has one "
        'shape: `{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TeamKindEnum": "accounts.models.Team.Kind",
        "RoleEnum": "accounts.models.Role",
        "ConnectionKindEnum": "accounts.models.SocialConnection.Kind",
        "FindingActionEnum": "compliance.models.Action",
        "PolicyChangeKindEnum": "compliance.models.PendingPolicyChange.Kind",
        "PolicyChangeOutcomeEnum": "compliance.models.PendingPolicyChange.Outcome",
        "OutcomeEnum": "compliance.models.Decision.Outcome",  # the review decision keeps its name
    },
}

# --- Metrics pulls (analytics.services.metrics) --------------------------------------------

# A round every METRICS_PULL_EVERY seconds; posts are pulled on a decaying schedule until
# METRICS_HORIZON_DAYS after publishing, then never. METRICS_CALLS_PER_ROUND caps the HTTP
# calls one round may make per network ("linkedin=300,x=300,facebook=300"); what does not
# fit stays due for the next round.
METRICS_PULL_EVERY = env.int("METRICS_PULL_EVERY", default=300)
METRICS_HORIZON_DAYS = env.int("METRICS_HORIZON_DAYS", default=30)
METRICS_CALLS_PER_ROUND = {
    "linkedin": 300,
    "x": 300,
    "facebook": 300,
    **env.dict("METRICS_CALLS_PER_ROUND", cast={"value": int}, default={}),
}

# --- Tracked links (analytics.services.clicks) ---------------------------------------------

# The secret that salts visitor hashes (rotated daily by mixing in the date); empty = derived
# from SECRET_KEY. Buffered clicks are flushed every CLICK_FLUSH_EVERY seconds.
CLICK_SALT = env.str("CLICK_SALT", default="")
CLICK_FLUSH_EVERY = env.float("CLICK_FLUSH_EVERY", default=10.0)
# Clicks from one address (IPv4, or an IPv6 /64) beyond this many in a minute, across all
# links, are recorded as discarded, not counted; the visitor is still redirected.
CLICK_RATE_PER_IP_MINUTE = env.int("CLICK_RATE_PER_IP_MINUTE", default=30)
# Conversion events a site's visitors may report from one address a minute (analytics.views.browser_events).
BROWSER_EVENTS_PER_MINUTE = env.int("BROWSER_EVENTS_PER_MINUTE", default=20)
# A post that goes live queues a refresh of its organization's per-author stats (coalesced;
# analytics.services.advocate_stats.refresh_soon); off, only the beat's refresh runs.
STATS_REFRESH_AFTER_POST = env.bool("STATS_REFRESH_AFTER_POST", default=True)
# A change the executive report reads queues, a few seconds later, the recomputation of the
# periods viewed in the last day (coalesced per organization; analytics.services.report_version),
# so the page is served from the cache; off, the first view after a change computes it.
REPORT_WARMING = env.bool("REPORT_WARMING", default=True)

# --- Celery ------------------------------------------------------------------------------

# Without a broker URL, `make run` uses kombu's filesystem transport: no server needed.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# A thread-pool worker (the publisher: many threads waiting on the networks and PostgreSQL)
# sets the interpreter's switch interval to this (advocacy.celery): a thread whose answer
# has come back waits for the interpreter lock up to the interval while another thread runs
# (Python's default, 5 ms, is set for CPU-bound threads; a batch waits on some 35 answers).
WORKER_THREADS_SWITCH_INTERVAL = env.float("WORKER_THREADS_SWITCH_INTERVAL", default=0.001)

CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "content.tasks.publish_*": {"queue": "publish"},
    "content.tasks.sweep_*": {"queue": "publish"},
    "analytics.tasks.pull_*": {"queue": "metrics"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The archive feed (compliance.services.archive_feed): how often beat looks for destinations
# without today's delivery (daily, and a retry after a failure), and how long a record's time
# must be past before it is delivered (a transaction still open when the window closes).
ARCHIVE_FEED_EVERY = env.float("ARCHIVE_FEED_EVERY", default=3600.0)
ARCHIVE_FEED_SETTLE_SECONDS = env.int("ARCHIVE_FEED_SETTLE_SECONDS", default=300)
# `make run`'s local S3-compatible bucket for the demo archive feed (`run_archive_bucket`, moto's
# server, a dev requirement): seed_demo points a destination of Acme at it when moto is installed.
ARCHIVE_DEMO_BUCKET_PORT = env.int("ARCHIVE_DEMO_BUCKET_PORT", default=8768)
CELERY_BEAT_SCHEDULE = {
    # The audit chains' heads, written outside the database (compliance.services.audit anchors).
    "anchor-audit-heads": {"task": "compliance.tasks.anchor_audit_heads", "schedule": 3600.0},
    # Records past their retention period, where the organization asked for it, legal holds excepted
    # (compliance.services.retention.purge_expired_records).
    "purge-expired-records": {"task": "compliance.tasks.purge_expired_records", "schedule": 86400.0},
    # The day's archive feed to each destination that has not had it yet.
    "deliver-archive-feeds": {"task": "compliance.tasks.deliver_due_archive_feeds", "schedule": ARCHIVE_FEED_EVERY},
    # Buffered clicks of tracked links into PostgreSQL and the rollups (analytics.services.clicks).
    "flush-clicks": {
        "task": "analytics.tasks.flush_clicks",
        "schedule": float(CLICK_FLUSH_EVERY),
    },
    "rollup-activity": {
        "task": "analytics.tasks.rollup_activity",
        "schedule": 60.0,
    },
    # Conversions that came before their click was flushed (analytics.services.conversions).
    "attribute-pending-conversions": {
        "task": "analytics.tasks.attribute_pending_conversions",
        "schedule": 60.0,
    },
    # Closed-won CRM deals since each connection's cursor, booked as attributed revenue (analytics.services.deals).
    "sync-crm-deals": {
        "task": "analytics.tasks.sync_crm_deals",
        "schedule": float(CRM_SYNC_EVERY),
    },
    # Per-author / per-suggestion / posting-time stats of changed days (analytics.services.advocate_stats).
    "refresh-advocate-stats": {
        "task": "analytics.tasks.refresh_advocate_stats",
        "schedule": 300.0,
    },
    # Hourly; each organization's summary leaves on its own Monday morning (analytics.digest).
    "send-weekly-summaries": {
        "task": "analytics.tasks.send_weekly_summaries",
        "schedule": crontab(minute=5),
    },
    "expire-invitations": {
        "task": "accounts.tasks.expire_invitations",
        "schedule": crontab(minute=15),
    },
    "refresh-expiring-connections": {
        "task": "accounts.tasks.refresh_expiring_connections",
        "schedule": 300.0,
    },
    "poll-content-feeds": {
        "task": "content.tasks.poll_feeds",
        "schedule": 1800.0,
    },
    "send-content-digests": {
        "task": "content.tasks.send_content_digests",
        "schedule": crontab(hour=7, minute=30),
    },
    # Issue 22: new featured content to Teams channels (content.services.teams).
    "post-featured-to-teams": {
        "task": "content.tasks.post_featured_to_teams",
        "schedule": env.float("TEAMS_POST_EVERY", default=120.0),
    },
    # Slack's daily round-ups, channels and opted-in members (issue 22, content.services.slack).
    "send-slack-round-ups": {"task": "content.tasks.send_slack_round_ups", "schedule": crontab(hour=8, minute=0)},
    "warn-expiring-connections": {
        "task": "accounts.tasks.warn_expiring_connections",
        "schedule": crontab(hour=8, minute=0),
    },
    "pull-metrics": {
        "task": "analytics.tasks.pull_metrics",
        "schedule": float(METRICS_PULL_EVERY),
    },
    # Finds due deliveries no task holds and reconciles expired leases (content.services.publishing).
    "sweep-deliveries": {
        "task": "content.tasks.sweep_deliveries",
        "schedule": 60.0,
    },
    # Reviews past their deadline go to the escalation pool, once each (compliance.services.supervision).
    "escalate-overdue-reviews": {
        "task": "compliance.tasks.escalate_overdue_reviews",
        "schedule": 300.0,
    },
    # Suspended members whose accounts still hold tokens: a withdrawal never scheduled (the
    # broker was down at the suspension) or never finished (accounts.services.connections).
    "withdraw-accounts-of-suspended-members": {
        "task": "accounts.tasks.withdraw_accounts_of_suspended_members",
        "schedule": 900.0,
    },
    # The raw clicks' month partitions: made months ahead, dropped after the retention once
    # rolled up (analytics.services.click_partitions).
    "ensure-click-partitions": {"task": "analytics.tasks.ensure_click_partitions", "schedule": 86400.0},
    "purge-expired-clicks": {"task": "analytics.tasks.purge_expired_clicks", "schedule": 86400.0},
    # Audit entries a process left pending when it died between its commit and their link
    # into the chain (compliance.services.audit.chain_pending).
    "chain-pending-audit": {"task": "compliance.tasks.chain_pending_audit", "schedule": 60.0},
}
# One beat sends, whatever number is started: the others stand by (advocacy.beat). The lock
# expires this long after its holder stops renewing it; a standby takes over within it.
CELERY_BEAT_SCHEDULER = "advocacy.beat:LockedScheduler"
BEAT_LOCK_SECONDS = env.float("BEAT_LOCK_SECONDS", default=30.0)

# --- Publishing (content.services.publishing) ---------------------------------------------

PUBLISH_QUEUE = env.str("PUBLISH_QUEUE", default="publish")
# While a worker publishes a delivery it holds a lease; past it the sweeper reconciles the
# delivery against the network. It must outlast a refresh, a publish and a lookup call.
PUBLISH_LEASE_SECONDS = env.float("PUBLISH_LEASE_SECONDS", default=max(60.0, 3 * NETWORK_TIMEOUT + 30))
PUBLISH_MAX_ATTEMPTS = env.int("PUBLISH_MAX_ATTEMPTS", default=8)
PUBLISH_RETRY_BASE_SECONDS = env.float("PUBLISH_RETRY_BASE_SECONDS", default=30.0)
PUBLISH_RETRY_MAX_SECONDS = env.float("PUBLISH_RETRY_MAX_SECONDS", default=3600.0)
PUBLISH_SWEEP_BATCH = env.int("PUBLISH_SWEEP_BATCH", default=5000)
# Deliveries per publish task (content.services.publishing.batch): one claim and one record
# transaction for the batch; its network calls go to the process's call pool, side by side
# (with PUBLISH_CALLS_IN_FLIGHT), or one after the other (without).
PUBLISH_BATCH_SIZE = env.int("PUBLISH_BATCH_SIZE", default=8)
# The most network calls one process makes at once (content.services.publishing.engine's
# call_slot), and the threads of its call pool (batch's calls); 0: as many as the worker has
# threads, a batch's calls one after the other. Run the publisher with 1.5 times as many
# threads as slots (docker-compose: 24 threads, 16 slots): each thread claims a batch, waits
# for its calls in the pool and records them, and with fewer the pool runs short of calls
# (8 threads for 16 slots: 0.68 of the limit against 0.86-0.91; bench/README.md).
PUBLISH_CALLS_IN_FLIGHT = env.int("PUBLISH_CALLS_IN_FLIGHT", default=0)
# Our own limiter (Redis, shared by every worker), kept just inside the networks' limits
# (PROVIDERS.md): per account and per app, as (calls, seconds) windows. A delivery that gets
# no slot is rescheduled for when one frees up instead of being fired and refused.
PUBLISH_RATE_LIMITS = {
    "linkedin": {"account": [(150, 86400)], "app": []},
    "x": {"account": [(100, 900), (300, 86400)], "app": []},
    "facebook": {"account": [], "app": [(4800, 3600)]},
}

# --- Logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Product settings --------------------------------------------------------------------

INVITATION_TTL_DAYS = env.int("INVITATION_TTL_DAYS", default=14)
# Hosts (host or host:port) the URL unfurler may fetch even though they are private or
# loopback. Empty in production; tests serve pages on loopback through it.
UNFURL_ALLOWED_HOSTS = env.list("UNFURL_ALLOWED_HOSTS", default=[])
BULK_INVITE_MAX_ROWS = env.int("BULK_INVITE_MAX_ROWS", default=5000)
