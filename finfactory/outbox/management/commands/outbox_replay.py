from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from finfactory.outbox.drain import replay
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.request_context import acting_as
from finfactory.tenancy.context import UnknownTenant, in_tenant


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not an ISO 8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Redeliver events: one (--event) or a time range (--from/--to, optionally --dead-only), to every "
        "subscriber (back to the drain) or to one (--handler, delivered now). Inbox rows keep effects single."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--event", help="evt_… id")
        parser.add_argument("--from", dest="start", help="ISO 8601, inclusive")
        parser.add_argument("--to", dest="end", help="ISO 8601, exclusive")
        parser.add_argument("--dead-only", action="store_true")
        parser.add_argument("--handler", help="Subscriber name; default: all subscribers")

    def handle(self, *args, **options):
        if not options["event"] and not (options["start"] and options["end"]):
            raise CommandError("give --event, or --from and --to")
        try:
            with in_tenant(options["tenant"]), acting_as("system:outbox_replay"):
                events = OutboxEvent.objects.order_by("id")
                if options["event"]:
                    events = events.filter(event_id=options["event"])
                else:
                    events = events.filter(
                        occurred_at__gte=_moment(options["start"]), occurred_at__lt=_moment(options["end"])
                    )
                if options["dead_only"]:
                    events = events.filter(status=OutboxStatus.DEAD)
                events = list(events)
                if not events:
                    raise CommandError("no matching events")
                try:
                    errors = replay(events=events, handler=options["handler"])
                except LookupError as exc:
                    raise CommandError(str(exc)) from exc
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc
        target = options["handler"] or "all subscribers (via the drain)"
        self.stdout.write(f"replayed {len(events)} event(s) to {target}; {len(errors)} failed")
        for event_id, failed in errors.items():
            self.stdout.write(f"  {event_id}: {failed}")
        if errors:
            raise CommandError(f"{len(errors)} event(s) failed again")
