"""Test settings: the production module with a fast hasher, in-memory mail and eager Celery."""

from .settings import *  # noqa: F403
from .settings import REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests run tasks in-process; the integration tests that need a real worker on Redis opt out explicitly.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Generous limits: tests that check throttling set their own.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute", "token": "10000/minute"},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Cached API answers are tested on their own (tests/api/test_caching.py); elsewhere every call is computed.
API_CACHE_SECONDS = 0

# Every kept statement is checked against the queryset built again (config/statements.py): a key that leaves out
# one of the builder's inputs fails the test that reaches it instead of answering with another query's rows.
STATEMENT_CHECK = True
