import threading

from django.db import connection

from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record
from finfactory.audit.verify import ChainReport, audit_chain_verify
from finfactory.tenancy.context import in_tenant

THREADS = 8
RECORDS_PER_THREAD = 10


def test_concurrent_writers_in_one_tenant_produce_one_unbroken_chain(committed_tenants):
    tenant = committed_tenants("busy").tenant
    with in_tenant(tenant):
        provisioning = AuditRecord.objects.count()
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            with in_tenant(tenant):
                for n in range(RECORDS_PER_THREAD):
                    audit_record(action="load.test", target_type="writer", target_id=f"{number}-{n}")
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with in_tenant(tenant):
        count = AuditRecord.objects.count()
        distinct_prev = AuditRecord.objects.values("prev_hash").distinct().count()
        report = audit_chain_verify()

    assert failures == []
    assert count == provisioning + THREADS * RECORDS_PER_THREAD
    assert distinct_prev == count  # no two records claim the same predecessor
    assert report == ChainReport(records_checked=count, ok=True)
