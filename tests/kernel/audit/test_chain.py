import hashlib
import json
from decimal import Decimal

from finfactory.audit.chain import GENESIS_HASH, canonical_json, record_hash
from finfactory.audit.models import AuditRecord
from finfactory.audit.services import audit_record
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant


def test_the_first_record_chains_to_the_genesis_hash_and_the_second_to_the_first(tenant):
    with in_tenant(tenant), acting_as("user:alice", request_id="req_chain_1"):
        head = AuditRecord.objects.order_by("id").last()  # provisioning started the chain
        first = audit_record(
            action="tenant.suspended",
            target_type="tenant",
            target_id=tenant.slug,
            before={"status": "active"},
            after={"status": "suspended"},
            reason="chargeback fraud",
        )
        second = audit_record(action="apikey.revoked", target_type="api_key", target_id=42, actor="system:beat")

    assert head is not None
    assert first.prev_hash == head.hash
    assert second.prev_hash == first.hash
    assert (first.actor, first.request_id, first.tenant) == ("user:alice", "req_chain_1", tenant.schema_name)
    assert (second.actor, second.target_id) == ("system:beat", "42")


def test_the_hash_is_sha256_of_prev_hash_and_the_canonical_json_of_the_stored_row(tenant):
    with in_tenant(tenant), acting_as("apikey:ff_test_AbCdEf", request_id="req_hash"):
        head_hash = AuditRecord.objects.order_by("id").last().hash
        written = audit_record(
            action="limit.changed",
            target_type="wallet",
            target_id="wal_1",
            before={"limit": 1000, "b": "ñ"},
            after={"limit": 5000, "a": [1, 2]},
            reason="",
        )
        stored = AuditRecord.objects.get(pk=written.pk)

    expected_payload = json.dumps(
        {
            "public_id": stored.public_id,
            "occurred_at": stored.occurred_at.isoformat(),
            "actor": "apikey:ff_test_AbCdEf",
            "tenant": tenant.schema_name,
            "action": "limit.changed",
            "target_type": "wallet",
            "target_id": "wal_1",
            "reason": "",
            "before": {"b": "ñ", "limit": 1000},
            "after": {"a": [1, 2], "limit": 5000},
            "request_id": "req_hash",
            "prev_hash": head_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert canonical_json(stored) == expected_payload
    assert stored.hash == hashlib.sha256((head_hash + expected_payload).encode()).hexdigest()
    assert stored.hash == written.hash
    assert stored.occurred_at == written.occurred_at


def test_values_json_cannot_represent_exactly_are_stored_as_hashed(tenant):
    with in_tenant(tenant):
        written = audit_record(
            action="fee.changed",
            target_type="fee",
            target_id="f1",
            before={"rate": Decimal("1.50"), "big": 1e20},
            after={"rate": 0.1},
        )
        stored = AuditRecord.objects.get(pk=written.pk)

    assert stored.before == written.before == {"rate": "1.50", "big": 100000000000000000000}
    assert record_hash(stored) == stored.hash


def test_without_an_actor_in_context_the_record_names_an_unknown_system_actor(tenant):
    with in_tenant(tenant):
        record = audit_record(action="job.ran", target_type="job", target_id="nightly")

    assert (record.actor, record.request_id, record.before, record.after) == ("system:unknown", "", None, None)


def test_the_first_record_of_a_schema_chains_to_the_genesis_hash_and_names_the_schema(db):
    record = audit_record(action="tenant.created", target_type="tenant", target_id="acme")

    assert (record.tenant, record.prev_hash) == ("public", GENESIS_HASH)
    assert list(AuditRecord.objects.values_list("pk", flat=True)) == [record.pk]
