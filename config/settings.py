"""Settings for the plan-target tracker, read from the environment in this one module.

Without any environment the product runs embedded: SQLite next to manage.py, Celery tasks
executed eagerly in-process, mail printed to the console. `DATABASE_URL` switches to
PostgreSQL and `REDIS_URL` to a Redis broker with real workers.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean strictly: a typo such as DEBUG=flase must fail loudly, not mean False."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use one of 1/0, true/false, yes/no, on/off)")


DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Development only; never used when DEBUG is off (checked above).
    SECRET_KEY = "dev-insecure-only-for-local-runs-" + "x" * 20

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "config.apps.KnoxConfig",  # django-rest-knox: the API's tokens (config/tokens.py)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "simple_history",
    "django_celery_beat",
    "axes",
    "csp",
    # Dependency direction: regions <- planning <- indicators.
    "regions",
    "planning",
    "indicators",
    # Beside the domain apps, depending on them and never the other way (docs/architecture.md).
    "dashboards",
    "exchange",
    "reports",
    "published",
    "demo",
    "benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "planning.context_processors.navigation",
                "demo.context_processors.demo_banner",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL=postgres://user@host:5432/name switches to PostgreSQL (psycopg 3).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # Re-check pooled connections so a restarted PostgreSQL does not leave dead ones behind.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No parallel workers per query by default: the pages' and the API's queries read a few rows, and starting
    # workers (~5 ms) for a plan misjudged as large cost more than it saved; the recompute's statements write
    # data and never run in parallel anyway (its parallelism is RECOMPUTE_CONNECTIONS and the nightly chord).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c max_parallel_workers_per_gather={env.int('DB_PARALLEL_WORKERS', default=0)}"
    )
    # Prepared statements for the reads clients poll (config/statements.py): the parameters travel apart from the
    # SQL (server-side binding) and those few statements are prepared on each connection, so PostgreSQL parses
    # them once and may keep a generic plan for them. Nothing else is prepared: a generic plan for the pages'
    # queries, which PostgreSQL would adopt after five runs when it estimates it no worse, cannot use the partial
    # indexes of open flags for a `state = $1` (the overview took 0.6 s instead of 0.1). Off for a connection
    # pooler in transaction mode (PgBouncer before 1.21), which cannot keep a connection's statements.
    if env_bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=None)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the eager Celery tasks and page views read while a form writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

# Optional read replica (PostgreSQL streaming replica) for the dashboards' and the API's reads: config/db_router.py.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"].update(
        CONN_MAX_AGE=DATABASES["default"].get("CONN_MAX_AGE", 0),
        CONN_HEALTH_CHECKS=True,
        OPTIONS={**DATABASES["default"].get("OPTIONS", {}), **DATABASES.get("replica", {}).get("OPTIONS", {})},
        TEST={"MIRROR": "default"},  # tests read the replica's data from the primary's test database
    )
    DATABASE_ROUTERS = ["config.db_router.ReadReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "config.db_router.ReplicaReadsMiddleware",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username/IP is refused before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: after this many failures for one username from one IP address, for this long.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
# The client address is REMOTE_ADDR: a forwarded header could be forged to dodge the lockout.
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Apache ECharts, installed from npm by `make setup` (package.json); never loaded from a CDN.
    ("vendor/echarts", BASE_DIR / "node_modules" / "echarts" / "dist"),
]
# Uploaded evidence lives outside the static root and is only served through views that check scope.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Mail: console in development; SMTP when EMAIL_URL is given (smtp://user:pass@host:587).
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="乐山教育规划目标跟踪系统 <noreply@localhost>")
# The address people open the product at; mails link to it (pages and robots use paths).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Celery: REDIS_URL switches from eager in-process execution to a Redis broker and real workers.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
# Nobody reads the tasks' return values (progress lives in the database). Storing them would also make every
# queued task subscribe to Redis for its result, and with Redis down that waits ~20 s of retries per request.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# A task not acknowledged within this time (its worker died) is handed to another worker. Deliberately longer
# than the hard time limit, so a slow but alive task is never run twice at once; the fault tests shorten it.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 5 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker looks for such abandoned tasks: every sweep, not kombu's default of every tenth.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=60),
    "unacked_restore_throttle": 1,
    # Fail fast when Redis is down, so an approval never waits on the broker (see planning.tasks): one
    # connection attempt when publishing, not kombu's retries for up to the connect timeout. Workers keep
    # reconnecting on their own (broker_connection_retry).
    "max_retries": 0,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The full recompute is cut into pieces of this many regions per plan, one Celery task each (see docs/scaling.md).
RECOMPUTE_CHUNK_REGIONS = env.int("RECOMPUTE_CHUNK_REGIONS", default=250)
# A recompute of more changed regions than this, outside a transaction on PostgreSQL, runs in parts on this many
# database connections at once (one per core of the database host is the natural choice).
RECOMPUTE_PARALLEL_REGIONS = env.int("RECOMPUTE_PARALLEL_REGIONS", default=200)
RECOMPUTE_CONNECTIONS = env.int("RECOMPUTE_CONNECTIONS", default=2)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    # Token first, so an anonymous request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "config.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    # The API takes JSON; only the evidence uploads take multipart (they set their own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["config.api.DecimalJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="30/minute"),
        "token": env.str("THROTTLE_TOKEN", default="10/minute"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# API tokens (django-rest-knox, config/tokens.py): stored hashed, valid this many days, not renewed on use;
# revoked by their owner through the API or by an administrator in the admin.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_DAYS must be at least 1")
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",  # the header clients already send: Authorization: Token <key>
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "乐山教育规划目标跟踪系统 API",
    "DESCRIPTION": (
        "乐山市“十四五”教育发展规划及基础教育高质量发展实施方案的指标、任务、进度判定与预警。\n\n"
        "认证：先 `POST /api/v1/auth/token/`（用户名、密码）取得令牌，之后在请求头中加 "
        "`Authorization: Token <令牌>`。浏览器已登录时也可直接访问。未认证的请求（本说明和 /api/schema/ 除外）返回 401。\n\n"
        "错误：均为 JSON。400 输入有误（按字段给出中文说明）；403 无权操作；404 不存在或不在您的查看范围内；"
        "409 版本冲突（他人已修改）、重复填报或当前状态不允许的操作。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are documented as sent: `version` stays required (the server refuses a PATCH without it).
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AssessmentStatusEnum": "planning.models.AssessmentStatus",
        "EntryStatusEnum": "planning.models.EntryStatus",
        "DisplayStatusEnum": "planning.assessment.DISPLAY_STATUSES",
        # Flags and notifications both have a `kind`: each choice set keeps its own name.
        "FlagKindEnum": "indicators.models.FlagKind",
        "NotificationKindEnum": "planning.models.NotificationKind",
        "PlanStateEnum": "planning.models.PlanState",
    },
}

# Read-only API answers (indicator list, status summary) are cached this long per user and query, and dropped
# as soon as a recompute changes what they show (config/caching.py); 0 turns the cache off.
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=30 if REDIS_URL else 0)

# The throttles keep counts in the cache: Redis when configured (shared by all web processes).
CACHES = {
    "default": (
        {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Production hardening applies whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Content-Security-Policy: everything from this site only; no inline script or style anywhere (charts,
# forms and the API docs load their code from /static/). data: images are ECharts' and Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "config.security.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Where the source documents of the plan live, copied into the repository from ../shared/seeds/.
PLAN_FIXTURES_DIR = BASE_DIR / "fixtures"
# Loaded by load_plan after the plans, in this order: data that refers to plan rows (公开数据 links indicators).
FIXTURE_LOADERS_AFTER_PLANS = ["published.loading.load_fixture_directory"]

# Evidence uploads: at most this many bytes per file and files per entry.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
EVIDENCE_MAX_FILES = env.int("EVIDENCE_MAX_FILES", default=10)
# Excel import: file size, uncompressed size (zip bombs) and rows per sheet.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=60 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20000)
# Imports with more changes than this are applied by a Celery task with a progress bar.
IMPORT_SYNC_LIMIT = env.int("IMPORT_SYNC_LIMIT", default=200)
# JSON bodies sent to the API: larger or more deeply nested ones are refused with a 400 before parsing.
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_BYTES", default=1024 * 1024)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=32)
# Requests larger than this are refused before Django reads them (several files per form).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
