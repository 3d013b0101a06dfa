from celery import shared_task

from finfactory.idempotency.services import idempotency_records_purge
from finfactory.tenancy.context import for_each_tenant, in_public_schema


@shared_task(name="finfactory.idempotency.tasks.purge_expired_records", ignore_result=True)
def purge_expired_records() -> dict[str, int]:
    """Beat, hourly: drop records past their retention (IDEMPOTENCY_TTL_HOURS, ≥ 24 h)."""
    with in_public_schema():
        purged = {"(public)": idempotency_records_purge()}
    purged.update(for_each_tenant(lambda tenant: idempotency_records_purge()))
    return purged
