from celery import shared_task

from finfactory.observability.heartbeat import record_worker_heartbeat


@shared_task(name="finfactory.observability.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    record_worker_heartbeat(hostname=worker_heartbeat.request.hostname or "unknown")
