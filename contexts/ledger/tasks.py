from celery import shared_task

from finfactory.tenancy.context import for_each_tenant

from .holds import holds_expire_due
from .sealing import chain_seal


@shared_task(name="contexts.ledger.tasks.expire_holds", ignore_result=True)
def expire_holds() -> dict[str, int]:
    """Beat, every minute: in every tenant, expire the active holds whose `expires_at` has passed."""
    return {slug: n for slug, n in for_each_tenant(lambda tenant: holds_expire_due()).items() if n}


@shared_task(name="contexts.ledger.tasks.seal_chains", ignore_result=True)
def seal_chains() -> dict[str, int]:
    """Beat, every few seconds: in every tenant, seal the entries posted since the last run."""
    return {slug: n for slug, n in for_each_tenant(lambda tenant: chain_seal()).items() if n}
