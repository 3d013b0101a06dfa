"""Test settings: real PostgreSQL and Redis (never SQLite), quiet logs, fast password hashing."""

import os

os.environ.setdefault("ENCRYPTION_KEYS", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAwMDAwMDA=")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from .base import *  # noqa: F403
from .base import env

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
LOGGING["root"]["level"] = LOG_LEVEL  # noqa: F405
# Static files come from the app directories (no collectstatic in development and tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Each pytest-xdist worker has its own test database, so it gets its own Celery queue: a worker
# process started by one test session never takes another session's tasks.
TEST_QUEUE = env("OUTBOX_QUEUE", default=f"finfactory-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
OUTBOX_QUEUE = TEST_QUEUE
CELERY_TASK_DEFAULT_QUEUE = TEST_QUEUE
