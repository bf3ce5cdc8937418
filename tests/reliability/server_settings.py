"""Production settings (DEBUG off, handler500, CSP, lockout) for the gunicorn the fault tests start.

Only what loopback HTTP needs differs: no HTTPS redirect or secure-only cookies, and static files served
without the collectstatic manifest.
"""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# The tests create users with the test settings' fast hasher; let this server check those passwords too.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]
