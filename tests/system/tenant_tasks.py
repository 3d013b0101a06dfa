"""A task for the worker tests: reports which schema it ran in (loaded with `celery -I`)."""

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection


@shared_task(name="tests.system.tenant_tasks.report_schema")
def report_schema(key: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.set(key, connection.schema_name, ex=300)
    client.close()
