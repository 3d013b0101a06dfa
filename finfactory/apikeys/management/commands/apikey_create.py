from django.core.management.base import BaseCommand, CommandError

from finfactory.apikeys.services import api_key_create
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, tenant_get


class Command(BaseCommand):
    help = "Issue an API key for a tenant, or a platform operator key with --platform. Shown once."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--tenant", help="Tenant slug")
        target.add_argument("--platform", action="store_true", help="A platform operator key")
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", help="Comma-separated; default: every scope of the key's kind")
        parser.add_argument("--live", action="store_true", help="ff_live_ instead of ff_test_")

    def handle(self, *args, **options):
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()] if options["scopes"] else None
        try:
            tenant = None if options["platform"] else tenant_get(options["tenant"])
            with acting_as("system:manage.py"):
                issued = api_key_create(
                    tenant=tenant,
                    name=options["name"],
                    scopes=scopes,
                    mode="live" if options["live"] else "test",
                )
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
        except PlatformError as exc:
            raise CommandError("; ".join(f"{e.field}: {e.message}" for e in exc.errors) or exc.detail) from exc
        self.stdout.write(f"{issued.key.public_id}  scopes: {','.join(issued.key.scopes)}")
        self.stdout.write(f"API key (shown once): {issued.secret}")
