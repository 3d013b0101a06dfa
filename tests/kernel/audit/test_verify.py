import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from finfactory.audit.chain import record_hash
from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record
from finfactory.audit.verify import ChainReport, audit_chain_verify
from finfactory.tenancy.context import in_tenant

ALTERED = "hash does not match the record's contents (the record was altered)"
UNLINKED = "prev_hash does not match the previous record's hash (a record was removed or inserted)"


def _write(count: int) -> list[AuditRecord]:
    return [
        audit_record(action="wallet.limit_changed", target_type="wallet", target_id=f"wal_{n}", after={"n": n})
        for n in range(count)
    ]


def _behind_the_triggers(sql: str, params=()) -> None:
    """Tamper as someone with the table owner's rights would: triggers off, change, triggers on."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_record DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_record ENABLE TRIGGER USER")


def _verify(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("audit_verify", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def test_a_clean_chain_passes(tenant):
    with in_tenant(tenant):
        provisioning = AuditRecord.objects.count()  # provisioning started the tenant's chain
        _write(3)
        report = audit_chain_verify()
    output, error = _verify("--tenant", tenant.slug)

    assert report == ChainReport(records_checked=provisioning + 3, ok=True)
    assert error is None
    assert output == f"{tenant.slug} [{tenant.schema_name}]: ok ({provisioning + 3} records)\n"


def test_an_empty_chain_passes(db):
    assert audit_chain_verify() == ChainReport(records_checked=0, ok=True)


def test_a_record_altered_behind_the_triggers_is_named(tenant):
    with in_tenant(tenant):
        provisioning = AuditRecord.objects.count()
        first, second, _third = _write(3)
        _behind_the_triggers("UPDATE audit_record SET after = '{\"n\": 99}' WHERE id = %s", [second.pk])
        report = audit_chain_verify()
        output, error = _verify("--tenant", tenant.slug)

    assert report == ChainReport(
        records_checked=provisioning + 2,
        ok=False,
        first_broken_id=second.pk,
        first_broken_public_id=second.public_id,
        problem=ALTERED,
    )
    assert error is not None
    assert str(error) == f"broken audit chain in: {tenant.slug} [{tenant.schema_name}]"
    assert output == (
        f"{tenant.slug} [{tenant.schema_name}]: BROKEN at {second.public_id} (id {second.pk}): {ALTERED}\n"
    )
    assert first.public_id not in output


def test_a_record_rewritten_with_a_recomputed_hash_breaks_the_link_of_the_next_one(tenant):
    with in_tenant(tenant):
        provisioning = AuditRecord.objects.count()
        _first, second, third = _write(3)
        second.reason = "rewritten"
        forged = record_hash(second)
        _behind_the_triggers(
            "UPDATE audit_record SET reason = 'rewritten', hash = %s WHERE id = %s", [forged, second.pk]
        )
        report = audit_chain_verify()

    assert report == ChainReport(
        records_checked=provisioning + 3,
        ok=False,
        first_broken_id=third.pk,
        first_broken_public_id=third.public_id,
        problem=UNLINKED,
    )


def test_a_record_deleted_behind_the_triggers_is_reported_at_the_record_after_the_gap(tenant):
    with in_tenant(tenant):
        provisioning = AuditRecord.objects.count()
        _first, second, third, _fourth = _write(4)
        _behind_the_triggers("DELETE FROM audit_record WHERE id = %s", [second.pk])
        report = audit_chain_verify()
        output, error = _verify("--tenant", tenant.slug)

    assert report == ChainReport(
        records_checked=provisioning + 2,
        ok=False,
        first_broken_id=third.pk,
        first_broken_public_id=third.public_id,
        problem=UNLINKED,
    )
    assert error is not None
    assert f"BROKEN at {third.public_id} (id {third.pk})" in output


def test_without_tenant_every_tenant_and_the_public_schema_are_checked(make_tenant):
    healthy = make_tenant("healthy").tenant
    damaged = make_tenant("damaged").tenant
    audit_record(action="platform.note", target_type="tenant", target_id=healthy.slug)
    public_total = AuditRecord.objects.count()
    with in_tenant(healthy):
        _write(2)
        healthy_total = AuditRecord.objects.count()
    with in_tenant(damaged):
        (broken,) = _write(1)
        _behind_the_triggers("UPDATE audit_record SET actor = 'user:mallory' WHERE id = %s", [broken.pk])

    output, error = _verify()

    lines = {
        f"public: ok ({public_total} records)",
        f"{healthy.slug} [{healthy.schema_name}]: ok ({healthy_total} records)",
        f"{damaged.slug} [{damaged.schema_name}]: BROKEN at {broken.public_id} (id {broken.pk}): {ALTERED}",
    }
    assert set(output.splitlines()) == lines
    assert output.splitlines()[0] == f"public: ok ({public_total} records)"
    assert str(error) == f"broken audit chain in: {damaged.slug} [{damaged.schema_name}]"
    assert connection.schema_name == "public"


def test_an_unknown_tenant_is_a_command_error(db):
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        call_command("audit_verify", "--tenant", "nope")
