import statistics
import time
import uuid

from django.core.management.base import BaseCommand

from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop


class Command(BaseCommand):
    help = "Measure seconds per tenant provisioning (clone of the template schema); drops what it made."

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, default=10)
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark tenants.")

    def handle(self, *args, **options):
        run = uuid.uuid4().hex[:6]
        durations, made = [], []
        with acting_as("system:bench"):
            for index in range(options["tenants"]):
                started = time.perf_counter()
                provisioned = tenant_provision(slug=f"bench-{run}-{index}", name=f"Bench {index}")
                durations.append(time.perf_counter() - started)
                made.append(provisioned.tenant)
        tables = self._tables(made[0].schema_name) if made else 0
        self.stdout.write(
            f"provisioned {len(durations)} tenants ({tables} tables each): "
            f"mean {statistics.mean(durations):.3f} s, median {statistics.median(durations):.3f} s, "
            f"max {max(durations):.3f} s, first {durations[0]:.3f} s"
        )
        if not options["keep"]:
            for tenant in made:
                tenant_schema_drop(tenant.schema_name)
                Tenant.objects.filter(pk=tenant.pk).delete()

    @staticmethod
    def _tables(schema: str) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema])
            return cursor.fetchone()[0]
