"""Local development: `make run`. Debug on, static files served from the app directories."""

import os

os.environ.setdefault("ENCRYPTION_KEYS", "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMDAwMDAwMDA=")
os.environ.setdefault("SECRET_KEY", "dev-only-secret-key-not-for-production-use-0123456789")

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
WHITENOISE_AUTOREFRESH = True
# Static files come from the app directories (no collectstatic in development and tests).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
