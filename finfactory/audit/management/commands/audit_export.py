"""Export one tenant's audit records for a date range, streamed as CSV or JSON lines."""

import csv
import json
from datetime import UTC, date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError

from finfactory.audit.chain import HASHED_FIELDS
from finfactory.audit.models import AuditRecord
from finfactory.audit.selectors import audit_records_between
from finfactory.tenancy.context import UnknownTenant, in_tenant

EXPORT_FIELDS = ("id", *HASHED_FIELDS, "hash")
FORMATS = ("csv", "jsonl")


def _parse_date(value: str, option: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        raise CommandError(f"{option} must be a date as YYYY-MM-DD, got {value!r}") from None


def _export_row(record: AuditRecord) -> dict:
    row = {name: getattr(record, name) for name in EXPORT_FIELDS}
    row["occurred_at"] = record.occurred_at.isoformat()
    return row


class _StdoutStream:
    """Lets csv and json write to the command's stdout without it adding line endings."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")


class Command(BaseCommand):
    help = "Export a tenant's audit records between two dates (inclusive, UTC) as csv or jsonl."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, metavar="SLUG")
        parser.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--format", dest="fmt", required=True, metavar="csv|jsonl")
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args, tenant: str, date_from: str, date_to: str, fmt: str, output=None, **options):
        first = _parse_date(date_from, "--from")
        last = _parse_date(date_to, "--to")
        if last < first:
            raise CommandError(f"--to ({last}) is before --from ({first})")
        if fmt not in FORMATS:
            raise CommandError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
        start = datetime.combine(first, time.min, tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)

        try:
            with in_tenant(tenant):
                if output:
                    try:
                        with open(output, "w", encoding="utf-8", newline="") as stream:
                            self._write(stream, fmt=fmt, start=start, end=end)
                    except OSError as exc:
                        raise CommandError(f"cannot write {output}: {exc}") from exc
                else:
                    self._write(_StdoutStream(self.stdout), fmt=fmt, start=start, end=end)
        except UnknownTenant as exc:
            raise CommandError(str(exc)) from exc

    def _write(self, stream, *, fmt: str, start: datetime, end: datetime) -> None:
        records = audit_records_between(start=start, end=end).iterator(chunk_size=2000)
        if fmt == "jsonl":
            for record in records:
                stream.write(json.dumps(_export_row(record), ensure_ascii=False) + "\n")
            return
        writer = csv.writer(stream)
        writer.writerow(EXPORT_FIELDS)
        for record in records:
            row = _export_row(record)
            for name in ("before", "after"):
                row[name] = "" if row[name] is None else json.dumps(row[name], sort_keys=True, ensure_ascii=False)
            writer.writerow(row[name] for name in EXPORT_FIELDS)
