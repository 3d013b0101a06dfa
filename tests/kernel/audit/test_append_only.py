import psycopg
import pytest
from django.db import DatabaseError, connection, transaction

from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record
from finfactory.tenancy.context import in_tenant


def _refused(sql: str, params=()) -> DatabaseError:
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return refused.value


def _row(pk: int) -> tuple:
    return AuditRecord.objects.filter(pk=pk).values_list("action", "reason", "hash").get()


def test_update_of_an_audit_record_is_refused_by_the_database(db):
    record = audit_record(action="tenant.created", target_type="tenant", target_id="acme", reason="onboarding")

    error = _refused("UPDATE audit_record SET reason = 'nothing happened' WHERE id = %s", [record.pk])

    assert isinstance(error.__cause__, psycopg.errors.RaiseException)
    assert "audit records are append-only" in str(error)
    assert _row(record.pk) == ("tenant.created", "onboarding", record.hash)


def test_delete_of_an_audit_record_is_refused_by_the_database(db):
    record = audit_record(action="tenant.created", target_type="tenant", target_id="acme")

    error = _refused("DELETE FROM audit_record WHERE id = %s", [record.pk])

    assert isinstance(error.__cause__, psycopg.errors.RaiseException)
    assert AuditRecord.objects.filter(pk=record.pk).count() == 1


def test_truncate_of_a_tenant_trail_is_refused(tenant):
    # In a tenant schema: the test database drops the public table's TRUNCATE guard (tests/conftest.py).
    with in_tenant(tenant):
        record = audit_record(action="tenant.created", target_type="tenant", target_id="acme")
        before = list(AuditRecord.objects.values_list("pk", flat=True))

        error = _refused("TRUNCATE audit_record")

        assert "audit records are append-only" in str(error)
        assert list(AuditRecord.objects.values_list("pk", flat=True)) == before
        assert record.pk in before


def test_the_orm_cannot_update_or_delete_records_either(db):
    record = audit_record(action="tenant.created", target_type="tenant", target_id="acme")

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).update(action="tenant.deleted")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditRecord.objects.filter(pk=record.pk).delete()

    assert _row(record.pk) == ("tenant.created", "", record.hash)


def test_a_freshly_provisioned_tenant_refuses_update_and_delete_with_its_own_trigger_function(make_tenant):
    provisioned = make_tenant("fresh")
    tenant = provisioned.tenant

    with in_tenant(tenant):
        record = audit_record(action="wallet.frozen", target_type="wallet", target_id="wal_1", reason="kyc")

        update_error = _refused("UPDATE audit_record SET reason = '' WHERE id = %s", [record.pk])
        delete_error = _refused("DELETE FROM audit_record WHERE id = %s", [record.pk])

        assert _row(record.pk) == ("wallet.frozen", "kyc", record.hash)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT t.tgname, fn_schema.nspname
                FROM pg_trigger t
                JOIN pg_class c ON c.oid = t.tgrelid
                JOIN pg_namespace table_schema ON table_schema.oid = c.relnamespace
                JOIN pg_proc p ON p.oid = t.tgfoid
                JOIN pg_namespace fn_schema ON fn_schema.oid = p.pronamespace
                WHERE table_schema.nspname = %s AND c.relname = 'audit_record' AND NOT t.tgisinternal
                ORDER BY t.tgname
                """,
                [tenant.schema_name],
            )
            triggers = cursor.fetchall()

    assert provisioned.schema_created_by == "cloned"
    assert isinstance(update_error.__cause__, psycopg.errors.RaiseException)
    assert isinstance(delete_error.__cause__, psycopg.errors.RaiseException)
    assert triggers == [
        ("audit_record_refuse_truncate", tenant.schema_name),
        ("audit_record_refuse_update_delete", tenant.schema_name),
    ]
