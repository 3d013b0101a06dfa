import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists

from finfactory.apikeys.models import ApiKey
from finfactory.errors import Conflict, InvalidInput
from finfactory.platform.services import tenant_provision
from finfactory.tenancy.context import for_each_tenant, in_tenant
from finfactory.tenancy.models import Tenant
from tests.helpers import api_client


def test_create_tenant_prints_exactly_the_tenant_and_a_working_key(db, capsys):
    call_command("create_tenant", "--slug", "acme-pay", "--name", "Acme Pay", "--json")

    printed = json.loads(capsys.readouterr().out)
    assert list(printed) == ["tenant", "api_key"]
    assert printed["tenant"] == "acme-pay"
    assert printed["api_key"].startswith("ff_test_")
    assert api_client(printed["api_key"]).get("/v1/api-keys").status_code == 200
    tenant = Tenant.objects.get(slug="acme-pay")
    assert tenant.schema_name == "t_acme_pay"
    assert tenant.product_template == "stored_value_wallet"


def test_a_new_schema_is_cloned_from_the_template_with_every_tenant_table(make_tenant):
    provisioned = make_tenant("clone")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
            [provisioned.tenant.schema_name],
        )
        tables = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'tenant_template' ORDER BY 1"
        )
        template_tables = {row[0] for row in cursor.fetchall()}

    assert provisioned.schema_created_by == "cloned"
    assert tables == template_tables
    assert {"auth_user", "idempotency_idempotencyrecord", "django_migrations"} <= tables
    assert "tenancy_tenant" not in tables


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("AB", "invalid_slug"),
        ("Acme", "invalid_slug"),
        ("ab", "invalid_slug"),
        ("a" * 41, "invalid_slug"),
        ("acme_pay", "invalid_slug"),
        ("-acme", "invalid_slug"),
        ("acme-", "invalid_slug"),
        ("ac--me", "invalid_slug"),
        ("acmé", "invalid_slug"),
        ("public", "reserved_slug"),
        ("pg-catalog", "reserved_slug"),
        ("information-schema", "reserved_slug"),
        ("tenant-template", "reserved_slug"),
    ],
)
def test_bad_slugs_are_refused_and_nothing_is_written(db, slug, code):
    schemas_before = _schemas()

    with pytest.raises(InvalidInput) as refused:
        tenant_provision(slug=slug, name="X")

    assert refused.value.code == code
    assert refused.value.errors[0].field == "slug"
    assert Tenant.objects.count() == 0
    assert _schemas() == schemas_before


def test_a_duplicate_slug_is_refused(make_tenant):
    existing = make_tenant("dupe").tenant

    with pytest.raises(Conflict) as refused:
        tenant_provision(slug=existing.slug, name="Again")

    assert refused.value.code == "tenant_exists"
    assert Tenant.objects.filter(slug=existing.slug).count() == 1


def test_a_failure_after_the_schema_was_cloned_leaves_no_schema_row_or_key(db):
    with pytest.raises(InvalidInput):
        tenant_provision(slug="half-made", name="Half", key_mode="bogus")  # fails at the key, last step

    assert not Tenant.objects.filter(slug="half-made").exists()
    assert not schema_exists("t_half_made")
    assert ApiKey.objects.count() == 0


def test_an_unknown_template_is_refused(db):
    with pytest.raises(InvalidInput) as refused:
        tenant_provision(slug="tmpl", name="T", template="payday_loans")

    assert refused.value.code == "invalid_template"
    assert not Tenant.objects.exists()


def test_commands_list_suspend_and_activate(make_tenant, capsys):
    tenant = make_tenant("cmd").tenant

    call_command("suspend_tenant", tenant.slug)
    call_command("list_tenants", "--json")
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    call_command("activate_tenant", tenant.slug)

    assert [(t["slug"], t["status"]) for t in listed] == [(tenant.slug, "suspended")]
    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    with pytest.raises(CommandError):
        call_command("suspend_tenant", "no-such-tenant")


def test_create_tenant_reports_validation_errors_clearly(db):
    with pytest.raises(CommandError, match="reserved_slug"):
        call_command("create_tenant", "--slug", "public", "--name", "P", "--json")


def test_for_each_tenant_runs_in_each_schema_in_turn(make_tenant):
    first, second = make_tenant("one").tenant, make_tenant("two").tenant

    seen = for_each_tenant(lambda tenant: connection.schema_name)

    assert seen == {first.slug: first.schema_name, second.slug: second.schema_name}
    assert connection.schema_name == "public"


def test_in_tenant_restores_the_previous_schema(make_tenant):
    first, second = make_tenant("one").tenant, make_tenant("two").tenant

    with in_tenant(first):
        with in_tenant(second):
            inner = connection.schema_name
        outer = connection.schema_name

    assert (inner, outer, connection.schema_name) == (second.schema_name, first.schema_name, "public")


def test_bench_provisioning_reports_seconds_per_tenant_and_cleans_up(db, capsys):
    call_command("bench_provisioning", "--tenants", "2")

    out = capsys.readouterr().out
    assert "provisioned 2 tenants" in out
    assert "mean" in out
    assert not Tenant.objects.filter(slug__startswith="bench-").exists()


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schema_name FROM information_schema.schemata")
        return {row[0] for row in cursor.fetchall()}


def test_provisioning_and_status_changes_are_audited(make_tenant):
    from finfactory.audit.models import AuditRecord

    tenant = make_tenant("audited").tenant
    from finfactory.platform.services import tenant_suspend

    tenant_suspend(tenant=tenant)

    public = list(AuditRecord.objects.filter(target_id=tenant.slug).values_list("action", flat=True))
    with in_tenant(tenant):
        own = list(AuditRecord.objects.order_by("id").values_list("action", "target_type"))
    assert public == ["tenant.provisioned", "tenant.suspended"]
    assert own == [("tenant.provisioned", "tenant"), ("apikey.created", "api_key")]


def test_a_cloned_schema_keeps_the_template_names_of_constraints_and_indexes(make_tenant):
    """A later migration that alters or drops a constraint by name must work on cloned tenants."""
    schema = make_tenant("names").tenant.schema_name

    assert _names(schema) == _names("tenant_template")
    assert ("outbox_outboxevent", "outbox_aggregate_sequence_unique") in _names(schema)


def _names(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, k.conname FROM pg_constraint k
              JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = %(schema)s
            UNION
            SELECT tablename, indexname FROM pg_indexes WHERE schemaname = %(schema)s
            """,
            {"schema": schema},
        )
        return set(cursor.fetchall())
