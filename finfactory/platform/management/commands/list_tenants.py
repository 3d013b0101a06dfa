import json

from django.core.management.base import BaseCommand

from finfactory.tenancy.context import tenants


class Command(BaseCommand):
    help = "List tenants."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        rows = [
            {
                "slug": t.slug,
                "name": t.name,
                "status": t.status,
                "template": t.product_template,
                "schema": t.schema_name,
                "created_at": t.created_at.isoformat(),
            }
            for t in tenants()
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows))
            return
        self.stdout.write(f"{'SLUG':<40} {'STATUS':<10} {'TEMPLATE':<28} NAME")
        for row in rows:
            self.stdout.write(f"{row['slug']:<40} {row['status']:<10} {row['template']:<28} {row['name']}")
