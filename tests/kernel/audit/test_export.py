import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from finfactory.audit.services import audit_record
from finfactory.tenancy.context import in_tenant


@pytest.fixture
def written_at(monkeypatch):
    """Write a record as if at a given instant (Django's clock, not project code, is stubbed)."""

    def write(moment: datetime, target_id: str, **fields):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return audit_record(action="wallet.frozen", target_type="wallet", target_id=target_id, **fields)

    return write


@pytest.fixture
def march(tenant, written_at):
    """Four records around the range 2025-03-02..2025-03-03; the middle two are inside it."""
    with in_tenant(tenant):
        return [
            written_at(datetime(2025, 3, 1, 23, 59, 59, 999999, tzinfo=UTC), "wal_before"),
            written_at(
                datetime(2025, 3, 2, 0, 0, tzinfo=UTC), "wal_first", before={"frozen": False}, reason='kyc, "expired"'
            ),
            written_at(datetime(2025, 3, 3, 23, 59, 59, 999999, tzinfo=UTC), "wal_last", after={"frozen": "ñ"}),
            written_at(datetime(2025, 3, 4, 0, 0, tzinfo=UTC), "wal_after"),
        ]


def _export(*args: str) -> str:
    out = io.StringIO()
    call_command("audit_export", *args, stdout=out)
    return out.getvalue()


def _expected_row(record) -> dict:
    return {
        "id": record.pk,
        "public_id": record.public_id,
        "occurred_at": record.occurred_at.isoformat(),
        "actor": record.actor,
        "tenant": record.tenant,
        "action": record.action,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "reason": record.reason,
        "before": record.before,
        "after": record.after,
        "request_id": record.request_id,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def test_jsonl_export_holds_exactly_the_records_of_the_inclusive_date_range(tenant, march):
    output = _export("--tenant", tenant.slug, "--from", "2025-03-02", "--to", "2025-03-03", "--format", "jsonl")

    assert [json.loads(line) for line in output.splitlines()] == [_expected_row(r) for r in march[1:3]]
    assert output.endswith("\n")


def test_csv_export_holds_exactly_the_records_of_the_inclusive_date_range(tenant, march):
    output = _export("--tenant", tenant.slug, "--from", "2025-03-02", "--to", "2025-03-03", "--format", "csv")

    rows = list(csv.reader(io.StringIO(output)))
    first, last = march[1], march[2]
    assert rows == [
        list(_expected_row(first)),
        [
            str(first.pk), first.public_id, "2025-03-02T00:00:00+00:00", "system:unknown", tenant.schema_name,
            "wallet.frozen", "wallet", "wal_first", 'kyc, "expired"', '{"frozen": false}', "", "",
            first.prev_hash, first.hash,
        ],
        [
            str(last.pk), last.public_id, "2025-03-03T23:59:59.999999+00:00", "system:unknown", tenant.schema_name,
            "wallet.frozen", "wallet", "wal_last", "", "", '{"frozen": "ñ"}', "", last.prev_hash, last.hash,
        ],
    ]  # fmt: skip


def test_export_writes_to_a_file_when_asked(tenant, march, tmp_path):
    target = tmp_path / "audit.jsonl"

    output = _export(
        "--tenant", tenant.slug, "--from", "2025-03-01", "--to", "2025-03-01", "--format", "jsonl",
        "--output", str(target),
    )  # fmt: skip

    assert output == ""
    assert [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()] == [_expected_row(march[0])]


def test_export_of_an_empty_range_is_only_the_csv_header(tenant, march):
    output = _export("--tenant", tenant.slug, "--from", "2024-01-01", "--to", "2024-12-31", "--format", "csv")

    assert output.splitlines() == [",".join(_expected_row(march[0]))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-13-01", "--to", "2025-03-03", "--format", "csv"), "--from must be a date as YYYY-MM-DD"),
        (("--from", "2025-03-01", "--to", "03/03/2025", "--format", "csv"), "--to must be a date as YYYY-MM-DD"),
        (("--from", "2025-03-04", "--to", "2025-03-03", "--format", "csv"), "--to (2025-03-03) is before --from"),
        (("--from", "2025-03-01", "--to", "2025-03-03", "--format", "xml"), "--format must be one of csv, jsonl"),
    ],
)
def test_bad_arguments_are_a_command_error_naming_the_problem(tenant, args, message, tmp_path):
    target = tmp_path / "out.csv"

    with pytest.raises(CommandError) as refused:
        call_command("audit_export", "--tenant", tenant.slug, *args, "--output", str(target))

    assert message in str(refused.value)
    assert not target.exists()


def test_export_of_an_unknown_tenant_is_a_command_error(db):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        call_command(
            "audit_export", "--tenant", "nope", "--from", "2025-03-01", "--to", "2025-03-01", "--format", "csv"
        )
