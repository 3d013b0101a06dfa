import json
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from finfactory.apikeys.services import KeyRejected, api_key_authenticate, api_key_create
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, tenant_get

DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = (
        "Development only: provision the `demo` tenant if missing and print a working API key. "
        "The key is kept in .local/demo-tenant.json so later runs print the same one."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(Path(settings.BASE_DIR) / ".local" / "demo-tenant.json"))

    def handle(self, *args, **options):
        path = Path(options["file"])
        with acting_as("system:make-run"):
            try:
                tenant = tenant_get(DEMO_SLUG)
            except UnknownTenant:
                provisioned = tenant_provision(slug=DEMO_SLUG, name="Demo Wallets Inc.")
                tenant, key = provisioned.tenant, provisioned.api_key.secret
            else:
                key = self._saved_key(path)
                if key is None:
                    key = api_key_create(tenant=tenant, name="demo").secret
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"tenant": tenant.slug, "api_key": key}))
        os.chmod(path, 0o600)
        self.stdout.write(f"  Demo tenant   {tenant.slug}   API key: {key}")

    @staticmethod
    def _saved_key(path: Path) -> str | None:
        try:
            key = json.loads(path.read_text())["api_key"]
            api_key_authenticate(key)
        except (OSError, ValueError, KeyError, KeyRejected):
            return None
        return key
