import pytest
from django.db import connection, transaction

from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record
from finfactory.events.catalog import InvalidEventPayload, UnknownEventType
from finfactory.outbox.models import OutboxEvent
from finfactory.outbox.publish import OutboxError, publish
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests import outbox_consumers  # noqa: F401  (registers test.counted)


def test_publish_writes_the_envelope_with_a_per_aggregate_sequence(tenant):
    with in_tenant(tenant), acting_as("apikey:ff_test_abc", request_id="req_pub1"):
        with transaction.atomic():
            first = publish("test.counted", "thing-1", {"n": 1})
            second = publish("test.counted", "thing-1", {"n": 2})
            other = publish("test.counted", "thing-2", {"n": 3})
        row = OutboxEvent.objects.get(event_id=second.id)

    assert (first.sequence, second.sequence, other.sequence) == (1, 2, 1)
    assert first.id.startswith("evt_") and len(first.id) == 30
    assert (second.type, second.version, second.aggregate_type, second.aggregate_id) == (
        "test.counted", 1, "thing", "thing-1"
    )  # fmt: skip
    assert (second.tenant, second.request_id, second.actor) == (tenant.schema_name, "req_pub1", "apikey:ff_test_abc")
    assert (row.sequence, row.data, row.status) == (2, {"n": 2}, "pending")


def test_an_event_commits_and_rolls_back_with_the_tenants_own_rows(tenant):
    with in_tenant(tenant):
        with transaction.atomic():
            audit_record(action="thing.kept", target_type="thing", target_id="kept")
            publish("test.counted", "kept", {"n": 1})
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="thing.lost", target_type="thing", target_id="lost")
            publish("test.counted", "lost", {"n": 2})
            raise RuntimeError("the change fails after publishing")

        assert OutboxEvent.objects.filter(aggregate_id="kept").count() == 1
        assert AuditRecord.objects.filter(target_id="kept").count() == 1
        assert not OutboxEvent.objects.filter(aggregate_id="lost").exists()
        assert not AuditRecord.objects.filter(target_id="lost").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM outbox_outboxevent")
            (in_search_path,) = cursor.fetchone()
        cursor_schema = connection.schema_name
    assert in_search_path == 1  # the table in the tenant's schema, through django-tenants' search_path
    assert cursor_schema == tenant.schema_name


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("wallet.nonexistent_thing", {"n": 1}, UnknownEventType),
        ("test.counted", {}, InvalidEventPayload),
        ("test.counted", {"n": "one"}, InvalidEventPayload),
        ("test.counted", {"n": 1, "extra": True}, InvalidEventPayload),
    ],
)
def test_an_unknown_type_or_invalid_payload_raises_and_nothing_commits(tenant, name, data, error):
    with in_tenant(tenant):
        with pytest.raises(error), transaction.atomic():
            audit_record(action="thing.changed", target_type="thing", target_id="x")
            publish(name, "x", data)

        assert not OutboxEvent.objects.exists()
        assert not AuditRecord.objects.filter(target_id="x").exists()


def test_invalid_payload_names_the_field(tenant):
    with in_tenant(tenant), pytest.raises(InvalidEventPayload) as raised, transaction.atomic():
        publish("test.counted", "x", {"n": "one"})

    assert raised.value.problems == ["n: 'one' is not of type 'integer'"]


def test_publish_outside_a_transaction_is_refused(committed_tenants):
    tenant = committed_tenants("autocommit").tenant

    with in_tenant(tenant), pytest.raises(OutboxError, match="needs a transaction"):
        publish("test.counted", "x", {"n": 1})  # autocommit: no transaction for the event to join

    with in_tenant(tenant):
        assert not OutboxEvent.objects.exists()


def test_publish_in_the_public_schema_is_refused(db):
    with pytest.raises(OutboxError, match="tenant schema"), transaction.atomic():
        publish("test.counted", "x", {"n": 1})
