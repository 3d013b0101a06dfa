"""Settings shared by every environment. Values that vary by machine come from the environment."""

import hashlib
from pathlib import Path

import environ

from finfactory.observability.logging import build_logging_config, configure_structlog

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Real environment variables win over files. `.local/services.env` is written by the development
# bootstrap when it had to start private PostgreSQL/Redis servers on free ports.
for env_file in (BASE_DIR / ".local" / "services.env", BASE_DIR / ".env"):
    if env_file.is_file():
        env.read_env(str(env_file))

SECRET_KEY = env("SECRET_KEY")  # required; dev and test settings provide a local-only default
# Fernet keys for data encrypted at rest, newest first (finfactory.crypto). Generate one with
# `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Tenancy (django-tenants, one PostgreSQL schema per tenant) -----------------------------
# The split is recorded in docs/adr/0002-shared-and-tenant-apps.md.
SHARED_APPS = [
    # finfactory.platform comes before django_tenants so that its create_tenant command (clone the
    # template schema, issue the first API key) is the one manage.py runs.
    "finfactory.platform",
    "finfactory.tenancy",
    "django_tenants",
    "finfactory.apikeys",
    "finfactory.observability",
    "finfactory.events",
    # Platform operations (tenant creation, platform keys) are audited and idempotent too.
    "finfactory.audit",
    "finfactory.idempotency",
    # Configuration and feature flags: the public schema's table holds the global values.
    "finfactory.tenantconfig",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
TENANT_APPS = [
    # Back-office staff of a tenant log in to the tenant's admin: their users, groups,
    # sessions and admin log live in the tenant's schema and leave with it.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "finfactory.audit",
    "finfactory.idempotency",
    "finfactory.backoffice",
    "finfactory.outbox",
    # ... and each tenant schema's table holds that tenant's values.
    "finfactory.tenantconfig",
    # Bounded contexts (contexts.<name>) are appended here as they land.
    "contexts.ledger",
    "contexts.identity",
    "contexts.wallets",
    "contexts.qrph",
    "contexts.fraud",
    # Orchestration: composes the primitives above through their api modules.
    "contexts.products",
    "contexts.webhooks",
    "contexts.notifications",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenancy.Tenant"
TENANT_DOMAIN_MODEL = "tenancy.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# API calls choose their tenant by API key, not by host: an unknown host is served the public
# URL configuration instead of a 404.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
# New tenants are cloned from this migrated schema instead of running every migration.
TENANT_BASE_SCHEMA = "tenant_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Issue `SET search_path` when a connection changes tenant, not before every query (half the round
# trips of a one-statement posting). django-tenants forgets the setting on rollback and savepoint
# rollback, which undo a SET, and on close (tests/kernel/test_tenant_routing.py).
TENANT_LIMIT_SET_CALLS = True
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]

MIDDLEWARE = [
    "finfactory.observability.middleware.RequestIdMiddleware",
    "finfactory.observability.health.HealthCheckMiddleware",
    "finfactory.api.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "finfactory.tenancy.middleware.TenantHostMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Data stores --------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/finfactory"),
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "ff",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}

# --- Celery (broker: Redis) -----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Socket timeouts: without them a broker that accepts connections but does not answer (hung,
# half-open) blocks any publish — an after-commit task send in a request thread — forever.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5, "socket_connect_timeout": 2}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".local" / "celerybeat-schedule")
)
# Longest a ledger write waits for an account lock before answering 503 ledger_busy (retryable).
LEDGER_LOCK_TIMEOUT_MS = env.int("LEDGER_LOCK_TIMEOUT_MS", default=2000)

CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "finfactory.observability.tasks.worker_heartbeat",
        "schedule": 30.0,
    },
    "outbox-sweep": {
        "task": "finfactory.outbox.tasks.sweep_outboxes",
        "schedule": float(env.int("OUTBOX_SWEEP_SECONDS", default=5)),
    },
    "ledger-seal-chains": {
        "task": "contexts.ledger.tasks.seal_chains",
        "schedule": float(env.int("LEDGER_SEAL_SECONDS", default=2)),
    },
    "ledger-expire-holds": {
        "task": "contexts.ledger.tasks.expire_holds",
        "schedule": float(env.int("LEDGER_HOLD_EXPIRY_SECONDS", default=60)),
    },
    "outbox-purge": {
        "task": "finfactory.outbox.tasks.purge_outboxes",
        "schedule": 24 * 3600.0,
    },
    "idempotency-purge": {
        "task": "finfactory.idempotency.tasks.purge_expired_records",
        "schedule": 3600.0,
    },
}

# --- Auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / ".local" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "finfactory.api.schema.ProblemAwareAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["finfactory.api.parsers.StrictJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["finfactory.apikeys.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["finfactory.apikeys.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["finfactory.apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "finfactory.api.pagination.CursorPagination",
    "EXCEPTION_HANDLER": "finfactory.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
}
API_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Requests per API key and scope (sliding window); a tenant's `rate_limits` overrides by scope.
API_RATE_LIMITS = {"default": env("API_RATE_LIMIT_DEFAULT", default="100/s")}
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)
SPECTACULAR_SETTINGS = {
    "TITLE": "FinFactory API",
    "DESCRIPTION": "The unified product API of the FinFactory platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

PROBLEM_TYPE_BASE_URL = env("PROBLEM_TYPE_BASE_URL", default="https://docs.finfactory.dev/errors/")
# Product templates a tenant can be provisioned with (their contents: contexts.products).
PRODUCT_TEMPLATES = [
    "stored_value_wallet",
    "closed_loop_wallet",
    "healthcare_benefits_wallet",
    "sharia_wallet",
]
# A resolved API key is cached this long; revocation and suspension also clear it at once.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
API_KEY_ROTATION_GRACE_SECONDS = env.int("API_KEY_ROTATION_GRACE_SECONDS", default=24 * 3600)

# Transactional outbox (finfactory.outbox): delivery batches, retries, retention.
OUTBOX_QUEUE = env("OUTBOX_QUEUE", default="celery")
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=500)
# Drains per tenant that may run in parallel, each owning a fixed share of aggregates (divides 64).
OUTBOX_DRAIN_PARTITIONS = env.int("OUTBOX_DRAIN_PARTITIONS", default=4)
OUTBOX_DRAIN_SECONDS = env.float("OUTBOX_DRAIN_SECONDS", default=10.0)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=2.0)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=3600.0)
OUTBOX_WAKE_DEDUPE_SECONDS = env.int("OUTBOX_WAKE_DEDUPE_SECONDS", default=5)
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
# Bearer token Prometheus must send to /metrics (empty: /metrics is not served).
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Observability ------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")  # json | console
configure_structlog(fmt=LOG_FORMAT)
LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
# Readiness probes give up on a dependency after this many seconds.
READINESS_TIMEOUT_SECONDS = env.float("READINESS_TIMEOUT_SECONDS", default=2.0)

# --- Identity (contexts.identity: customers, KYC, risk flags) -----------------------------------
# Key of the blind indexes (keyed HMAC-SHA256, finfactory.pii) that let exact lookups find an
# encrypted phone or ID number without decrypting. Required in production (prod.py); development
# and tests derive one from SECRET_KEY. Changing it needs `manage.py pii_reencrypt --reindex`.
BLIND_INDEX_KEY = (
    env("BLIND_INDEX_KEY", default="") or hashlib.sha256(b"finfactory.blind-index:" + SECRET_KEY.encode()).hexdigest()
)
# KYC provider of every tenant ("sandbox" or "vendor"), and per-tenant choices by slug
# (IDENTITY_KYC_PROVIDER_BY_TENANT=acme=vendor,demo=sandbox).
IDENTITY_KYC_PROVIDER = env("IDENTITY_KYC_PROVIDER", default="sandbox")
IDENTITY_KYC_PROVIDER_BY_TENANT = env.dict("IDENTITY_KYC_PROVIDER_BY_TENANT", default={})
# Submissions allowed after a rejection (a customer may try 1 + this many times in a row).
IDENTITY_KYC_MAX_RESUBMISSIONS = env.int("IDENTITY_KYC_MAX_RESUBMISSIONS", default=2)
# How long a verification holds when the provider gives no document expiry.
IDENTITY_KYC_VALIDITY_DAYS = env.int("IDENTITY_KYC_VALIDITY_DAYS", default=365)
# Seconds after which a submission still unsent or undecided is re-sent or polled (beat).
IDENTITY_KYC_RECONCILE_AFTER_SECONDS = env.int("IDENTITY_KYC_RECONCILE_AFTER_SECONDS", default=120)
# Queue of identity's tasks (empty: the default queue).
IDENTITY_QUEUE = env("IDENTITY_QUEUE", default="")
# Sandbox provider: seconds before it decides (an id_number ending in 0000 is rejected).
IDENTITY_SANDBOX_DECISION_SECONDS = env.float("IDENTITY_SANDBOX_DECISION_SECONDS", default=3.0)
# HTTP KYC vendor: API base URL and key, callback signing secrets (newest first), timeouts.
IDENTITY_VENDOR_BASE_URL = env("IDENTITY_VENDOR_BASE_URL", default="")
IDENTITY_VENDOR_API_KEY = env("IDENTITY_VENDOR_API_KEY", default="")
IDENTITY_VENDOR_WEBHOOK_SECRETS = env.list("IDENTITY_VENDOR_WEBHOOK_SECRETS", default=[])
IDENTITY_VENDOR_TIMEOUT_SECONDS = env.float("IDENTITY_VENDOR_TIMEOUT_SECONDS", default=10.0)
IDENTITY_VENDOR_CALLBACK_TOLERANCE_SECONDS = env.int("IDENTITY_VENDOR_CALLBACK_TOLERANCE_SECONDS", default=300)
# Scheme of the callback URL given to the vendor: https://<tenant's primary domain>/callbacks/identity/vendor
IDENTITY_CALLBACK_SCHEME = env("IDENTITY_CALLBACK_SCHEME", default="https")
# Watchlist screening: rapidfuzz token-sort score (0-100) from which a name is a hit.
IDENTITY_WATCHLIST_MATCH_THRESHOLD = env.int("IDENTITY_WATCHLIST_MATCH_THRESHOLD", default=85)
CELERY_BEAT_SCHEDULE.update(
    {
        "identity-expire-kyc": {
            "task": "contexts.identity.tasks.expire_kyc",
            "schedule": float(env.int("IDENTITY_KYC_EXPIRY_SECONDS", default=300)),
        },
        "identity-reconcile-kyc": {
            "task": "contexts.identity.tasks.reconcile_kyc",
            "schedule": float(env.int("IDENTITY_KYC_RECONCILE_SECONDS", default=60)),
        },
    }
)

# --- QR Ph (contexts.qrph: EMVCo merchant-presented QR, QR payments) ----------------------------
# Queue of qrph's tasks (empty: the default queue).
QRPH_QUEUE = env("QRPH_QUEUE", default="")
# Network adapter of off-us payments ("sandbox"; a tenant's QR configuration may name another).
QRPH_NETWORK = env("QRPH_NETWORK", default="sandbox")
# Sandbox InstaPay: seconds before it settles (centavos .13 → failed network_declined, .14 →
# failed receiving_account_invalid, any other → confirmed).
QRPH_SANDBOX_SETTLE_SECONDS = env.float("QRPH_SANDBOX_SETTLE_SECONDS", default=2.0)
# A new tenant's acquirer BIC: 8 letters/digits (bank, PH, location); a 3-character branch code
# derived from the tenant's schema is appended, so that sandbox tenants do not share one.
QRPH_SANDBOX_BIC_PREFIX = env("QRPH_SANDBOX_BIC_PREFIX", default="FNFYPHM2")
# Seconds after which an off-us payment still pending is re-submitted or polled (beat).
QRPH_RECONCILE_AFTER_SECONDS = env.int("QRPH_RECONCILE_AFTER_SECONDS", default=120)
CELERY_BEAT_SCHEDULE.update(
    {
        "qrph-reconcile-payments": {
            "task": "contexts.qrph.tasks.reconcile_payments",
            "schedule": float(env.int("QRPH_RECONCILE_SECONDS", default=60)),
        },
    }
)

# --- Fraud (contexts.fraud: rules, model scoring, review queue) ---------------------------------
# Whether fraud_generate may write synthetic labelled history (sandbox pipelines; off in production).
FRAUD_SYNTHETIC_DATA_ALLOWED = env.bool("FRAUD_SYNTHETIC_DATA_ALLOWED", default=True)
# Key of the HMAC that signs model artifacts (a process unpickles only signed bytes). Changing it
# unloads every model until retrained; derived from SECRET_KEY unless set.
FRAUD_MODEL_SIGNING_KEY = (
    env("FRAUD_MODEL_SIGNING_KEY", default="")
    or hashlib.sha256(b"finfactory.fraud-model:" + SECRET_KEY.encode()).hexdigest()
)
# fraud_train refuses fewer labelled movements than this, or fewer than 20 of either class.
FRAUD_TRAIN_MIN_ROWS = env.int("FRAUD_TRAIN_MIN_ROWS", default=200)

# --- Webhooks (contexts.webhooks: endpoints; signed deliveries later) ---------------------------
# Whether endpoint URLs may be plain http:// (development and sandbox; production: https only).
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=True)
# Whether endpoint URLs may name localhost or a loopback, private, link-local or reserved IP literal.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env.bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", default=True)

# --- Tenant configuration and feature flags (finfactory.tenantconfig) ---------------------------
# A process trusts its cached values this long (seconds), then checks the version counters in
# Redis: the longest another process can serve a value after a change (docs/kernel/configuration.md).
TENANTCONFIG_CACHE_SECONDS = env.float("TENANTCONFIG_CACHE_SECONDS", default=5.0)
# Cached values are reloaded at least this often, even if no version counter moved (a lost bump).
TENANTCONFIG_CACHE_MAX_AGE_SECONDS = env.float("TENANTCONFIG_CACHE_MAX_AGE_SECONDS", default=60.0)
# Redis holding the version counters (default: the cache's).
TENANTCONFIG_REDIS_URL = env("TENANTCONFIG_REDIS_URL", default=CACHES["default"]["LOCATION"])
# --- end tenant configuration -------------------------------------------------------------------

# --- Products (contexts.products: templates, workflows, sagas) ----------------------------------
# Queue of orchestration's tasks (empty: the default queue).
PRODUCTS_QUEUE = env("PRODUCTS_QUEUE", default="")
# Sandbox payout provider: seconds before it answers (amount % 100: 13 → destination_declined,
# 14 → destination_account_closed, 15 → no callback at all: found by polling after the silent delay).
PRODUCTS_SANDBOX_PAYOUT_SECONDS = env.float("PRODUCTS_SANDBOX_PAYOUT_SECONDS", default=2.0)
PRODUCTS_SANDBOX_PAYOUT_SILENT_SECONDS = env.float("PRODUCTS_SANDBOX_PAYOUT_SILENT_SECONDS", default=30.0)
# Crash tests: saga steps after whose commit the process kills itself (never in production).
PRODUCTS_FAILPOINTS = env.list("PRODUCTS_FAILPOINTS", default=[])
CELERY_BEAT_SCHEDULE.update(
    {
        "products-resume-operations": {
            "task": "contexts.products.tasks.operations_resume",
            "schedule": float(env.int("PRODUCTS_RESUME_SECONDS", default=15)),
        },
    }
)

# --- Wallet statements (contexts.products.statements) --------------------------------------------
# The longest period one statement covers, in the tenant's calendar days (both ends included).
PRODUCTS_STATEMENT_MAX_DAYS = env.int("PRODUCTS_STATEMENT_MAX_DAYS", default=366)

# --- Webhook deliveries (contexts.webhooks: signed POSTs, retries, auto-disable) -----------------
# Queue of the delivery tasks (empty: the default queue).
WEBHOOKS_QUEUE = env("WEBHOOKS_QUEUE", default="")
# Connect and read timeout of one delivery POST, seconds.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=10.0)
# Attempts per delivery before it is `failed`; retry n waits BASE·2^(n-1) capped at MAX (plus up to
# 10 % jitter): 17 attempts span 277 410 s ≈ 3.2 days at the defaults (contexts/webhooks/README.md).
WEBHOOKS_MAX_ATTEMPTS = env.int("WEBHOOKS_MAX_ATTEMPTS", default=17)
WEBHOOKS_BACKOFF_BASE_SECONDS = env.float("WEBHOOKS_BACKOFF_BASE_SECONDS", default=30.0)
WEBHOOKS_BACKOFF_MAX_SECONDS = env.float("WEBHOOKS_BACKOFF_MAX_SECONDS", default=43200.0)
# An endpoint is disabled (event webhook_endpoint.disabled) after this many failed attempts in a
# row (across its deliveries; any 2xx resets) once the streak has lasted at least this long.
WEBHOOKS_DISABLE_AFTER_FAILURES = env.int("WEBHOOKS_DISABLE_AFTER_FAILURES", default=17)
WEBHOOKS_DISABLE_AFTER_SECONDS = env.float("WEBHOOKS_DISABLE_AFTER_SECONDS", default=3 * 86400.0)
CELERY_BEAT_SCHEDULE.update(
    {
        "webhooks-requeue-due-deliveries": {
            "task": "contexts.webhooks.tasks.deliveries_requeue",
            "schedule": float(env.int("WEBHOOKS_REQUEUE_SECONDS", default=15)),
        },
    }
)
# --- end webhook deliveries ----------------------------------------------------------------------

# --- Notifications (contexts.notifications: templates, preferences, channels) -------------------
# Queue of the send tasks (empty: the default queue).
NOTIFICATIONS_QUEUE = env("NOTIFICATIONS_QUEUE", default="")
# Adapter per channel: email → Django's e-mail backend; SMS and push → sandboxes until a provider lands.
NOTIFICATIONS_CHANNEL_ADAPTERS = {
    "email": env("NOTIFICATIONS_EMAIL_ADAPTER", default="email"),
    "sms": env("NOTIFICATIONS_SMS_ADAPTER", default="sms_sandbox"),
    "push": env("NOTIFICATIONS_PUSH_ADAPTER", default="push_sandbox"),
}
# Attempts before a notification is `dead`; retry n waits BASE·2^(n-1) seconds, capped at MAX.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
NOTIFICATIONS_BACKOFF_BASE_SECONDS = env.float("NOTIFICATIONS_BACKOFF_BASE_SECONDS", default=30.0)
NOTIFICATIONS_BACKOFF_MAX_SECONDS = env.float("NOTIFICATIONS_BACKOFF_MAX_SECONDS", default=3600.0)
# The beat re-queues pending notifications overdue by this many seconds (a lost send task).
NOTIFICATIONS_REQUEUE_AFTER_SECONDS = env.int("NOTIFICATIONS_REQUEUE_AFTER_SECONDS", default=60)
# Money out is notified from this amount, minor units per currency (a currency not listed: always).
NOTIFICATIONS_MONEY_OUT_THRESHOLDS = {"PHP": env.int("NOTIFICATIONS_MONEY_OUT_THRESHOLD_PHP", default=100_000)}
# E-mail: Django's backend (console in development; SMTP in production through EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS; the test runner swaps in locmem).
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
NOTIFICATIONS_EMAIL_FROM = env("NOTIFICATIONS_EMAIL_FROM", default="FinFactory <no-reply@finfactory.local>")
NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS = env.float("NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE.update(
    {
        "notifications-requeue-due": {
            "task": "contexts.notifications.tasks.requeue_due",
            "schedule": float(env.int("NOTIFICATIONS_REQUEUE_SECONDS", default=30)),
        },
    }
)
# --- end notifications ---------------------------------------------------------------------------
