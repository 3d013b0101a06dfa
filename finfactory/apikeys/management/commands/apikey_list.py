from django.core.management.base import BaseCommand, CommandError

from finfactory.apikeys.models import ApiKey, KeyKind
from finfactory.tenancy.context import UnknownTenant, tenant_get


class Command(BaseCommand):
    help = "List API keys of a tenant (or platform keys with --platform). Secrets are never shown."

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--tenant")
        target.add_argument("--platform", action="store_true")

    def handle(self, *args, **options):
        if options["platform"]:
            keys = ApiKey.objects.filter(kind=KeyKind.PLATFORM)
        else:
            try:
                keys = ApiKey.objects.filter(tenant=tenant_get(options["tenant"]))
            except UnknownTenant as exc:
                raise CommandError(str(exc)) from exc
        for key in keys:
            state = (
                "revoked"
                if key.revoked_at
                else (f"expires {key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else "active")
            )
            self.stdout.write(f"{key.public_id}  {key.prefix}…  {key.name:<20} {state:<24} {','.join(key.scopes)}")
