"""The Celery application. Tasks run in the schema of the tenant that queued them.

`tenant_schemas_celery` stamps the active schema into every task's headers when it is sent and
switches the worker's connection to that schema before the task runs.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = CeleryApp("finfactory")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Bind task id and tenant schema to every log line a task writes.
import finfactory.observability.celery  # noqa: E402,F401
