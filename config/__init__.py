"""Composition root: settings, URL configurations, the Celery app, WSGI/ASGI.

Nothing in ``finfactory`` or ``contexts`` imports this package (see importlinter.ini).
"""

from config.celery import app as celery_app

__all__ = ["celery_app"]
