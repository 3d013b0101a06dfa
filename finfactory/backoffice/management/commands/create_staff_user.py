"""Create a back-office member of staff in a tenant's schema, with one role."""

import secrets

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from finfactory.audit.services import audit_record
from finfactory.backoffice.roles import ROLES, roles_sync
from finfactory.request_context import acting_as, current_actor
from finfactory.tenancy.context import UnknownTenant, in_tenant


class Command(BaseCommand):
    help = "Create a staff user (is_staff) in a tenant's back office with the role Viewer, Operator or Approver."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, metavar="|".join(ROLES))
        parser.add_argument("--password", help="Default: a generated one, printed once.")

    def handle(self, *args, tenant: str, username: str, email: str, role: str, password=None, **options):
        if role not in ROLES:
            raise CommandError(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
        generated = password is None
        if generated:
            password = secrets.token_urlsafe(18)
        try:
            with in_tenant(tenant) as found, acting_as(current_actor() or "system:create_staff_user"):
                self._create(username=username, email=email, role=role, password=password)
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(f"Created {role} {username!r} in {found.slug}.")
        if generated:
            self.stdout.write(f"Password (shown once): {password}")

    def _create(self, *, username: str, email: str, role: str, password: str) -> None:
        user_model = get_user_model()
        with transaction.atomic():
            if user_model.objects.filter(username=username).exists():
                raise CommandError(f"a user {username!r} already exists in this tenant")
            user = user_model(username=username, email=email, is_staff=True)
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise CommandError("password refused: " + " ".join(exc.messages)) from exc
            user.set_password(password)
            user.save()
            group = Group.objects.filter(name=role).first()
            if group is None:  # a schema migrated before the roles existed
                roles_sync()
                group = Group.objects.get(name=role)
            user.groups.add(group)
            audit_record(
                action="staff_user.created",
                target_type="user",
                target_id=username,
                after={"email": email, "role": role, "is_staff": True},
            )
