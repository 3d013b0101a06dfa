from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from finfactory.outbox.operations import outbox_purge
from finfactory.tenancy.context import for_each_tenant


class Command(BaseCommand):
    help = "Delete delivered events (and their inbox rows) older than N days. Pending and dead are kept."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args, **options):
        if options["older_than"] < 1:
            raise CommandError("--older-than must be at least 1 day")
        age = timedelta(days=options["older_than"])
        purged = for_each_tenant(lambda tenant: outbox_purge(older_than=age))
        for slug, count in purged.items():
            self.stdout.write(f"{slug}: {count} delivered event(s) purged")
