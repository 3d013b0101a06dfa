import json

from django.core.management.base import BaseCommand, CommandError

from finfactory.errors import PlatformError
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as


class Command(BaseCommand):
    help = "Provision a tenant (schema cloned from the template) and print its first API key, once."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--template", default="stored_value_wallet")
        parser.add_argument(
            "--live",
            action="store_true",
            help="A live tenant (real money, ff_live_ keys) instead of a sandbox one (ff_test_ keys).",
        )
        parser.add_argument("--json", action="store_true", help='Print {"tenant": SLUG, "api_key": KEY} only.')

    def handle(self, *args, **options):
        try:
            with acting_as("system:manage.py"):
                provisioned = tenant_provision(
                    slug=options["slug"],
                    name=options["name"],
                    template=options["template"],
                    environment="live" if options["live"] else "sandbox",
                )
        except PlatformError as exc:
            fields = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            raise CommandError(f"{exc.code}: {exc.detail}{' (' + fields + ')' if fields else ''}") from exc
        tenant, secret = provisioned.tenant, provisioned.api_key.secret
        if options["json"]:
            self.stdout.write(json.dumps({"tenant": tenant.slug, "api_key": secret}))
            return
        self.stdout.write(
            f"Tenant {tenant.slug} ({tenant.name}) provisioned in schema {tenant.schema_name} "
            f"({provisioned.schema_created_by}, {provisioned.seconds:.2f} s).\n"
            f"API key (shown once): {secret}"
        )
