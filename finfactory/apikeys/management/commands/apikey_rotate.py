from django.core.management.base import BaseCommand, CommandError

from finfactory.apikeys.models import ApiKey
from finfactory.apikeys.services import api_key_rotate
from finfactory.errors import PlatformError
from finfactory.request_context import acting_as


class Command(BaseCommand):
    help = "Rotate an API key: a new key with the same scopes; the old one works for --grace seconds."

    def add_arguments(self, parser):
        parser.add_argument("key_id")
        parser.add_argument("--grace", type=int, default=None, help="Seconds (default API_KEY_ROTATION_GRACE_SECONDS)")

    def handle(self, *args, **options):
        key = ApiKey.objects.filter(public_id=options["key_id"]).first()
        if key is None:
            raise CommandError(f"no API key {options['key_id']}")
        try:
            with acting_as("system:manage.py"):
                issued = api_key_rotate(key=key, grace_seconds=options["grace"])
        except PlatformError as exc:
            raise CommandError(exc.detail) from exc
        key.refresh_from_db()
        self.stdout.write(
            f"{key.public_id} valid until {key.expires_at.isoformat()}; replaced by {issued.key.public_id}"
        )
        self.stdout.write(f"New API key (shown once): {issued.secret}")
