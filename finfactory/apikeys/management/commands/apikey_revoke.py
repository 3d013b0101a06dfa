from django.core.management.base import BaseCommand, CommandError

from finfactory.apikeys.models import ApiKey
from finfactory.apikeys.services import api_key_revoke
from finfactory.request_context import acting_as


class Command(BaseCommand):
    help = "Revoke an API key by id (key_…): refused at once everywhere."

    def add_arguments(self, parser):
        parser.add_argument("key_id")

    def handle(self, *args, **options):
        key = ApiKey.objects.filter(public_id=options["key_id"]).first()
        if key is None:
            raise CommandError(f"no API key {options['key_id']}")
        with acting_as("system:manage.py"):
            key = api_key_revoke(key=key)
        self.stdout.write(f"{key.public_id} revoked at {key.revoked_at.isoformat()}")
