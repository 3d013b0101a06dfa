"""contexts.webhooks.api: endpoints created, listed, read, deleted; the secret shown once and
stored encrypted; events and audit records without it; pattern matching for delivery."""

import re

import pytest
from django.db import connection

from contexts.webhooks import api, services
from contexts.webhooks.models import WebhookEndpoint
from finfactory import crypto
from finfactory.audit.models import AuditRecord
from finfactory.errors import BusinessRuleViolation, NotFound
from finfactory.events.catalog import catalog
from finfactory.outbox.models import OutboxEvent
from finfactory.tenancy.context import in_tenant
from tests.contexts.webhooks.conftest import raw_row, written

URL = "https://hooks.example.com/finfactory?token=abc123"


def create(**fields):
    return api.endpoint_create(**{"url": URL, "events": ["wallet.created"], **fields})


def test_create_returns_the_secret_once_and_stores_it_encrypted(webhooks):
    created = create(events=["wallet.created", "qr.*"], description="Ops alerts")

    assert re.fullmatch(r"we_[0-9a-z]{26}", created.id)
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", created.secret)
    assert (created.url, created.events, created.description) == (URL, ("wallet.created", "qr.*"), "Ops alerts")
    assert created.enabled is True and created.deleted_at is None
    assert created.secret_last4 == created.secret[-4:]
    assert created.secret not in repr(created)
    stored = raw_row(webhooks, created.id)
    assert created.secret not in stored
    assert created.secret[6:30] not in stored
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT secret FROM "{webhooks.schema_name}".webhooks_webhookendpoint WHERE public_id = %s', [created.id]
        )
        token = cursor.fetchone()[0]
    assert token.startswith("gAAAAA")  # a Fernet token
    assert crypto.decrypt(token.encode()).decode() == created.secret
    assert api.endpoint_secret(endpoint_id=created.id) == created.secret


def test_get_and_list_never_carry_the_secret(webhooks):
    created = create()

    fetched = api.endpoint_get(endpoint_id=created.id)
    listed = api.endpoint_list().items

    assert not hasattr(fetched, "secret")
    assert [e.id for e in listed] == [created.id]
    assert not hasattr(listed[0], "secret")
    assert fetched == listed[0]
    assert (fetched.url, fetched.events, fetched.secret_last4) == (URL, ("wallet.created",), created.secret[-4:])


def test_each_endpoint_gets_its_own_secret(webhooks):
    first, second = create(), create()

    assert first.secret != second.secret
    assert api.endpoint_secret(endpoint_id=first.id) == first.secret
    assert api.endpoint_secret(endpoint_id=second.id) == second.secret


def test_create_publishes_an_event_and_audits_without_the_secret(webhooks):
    created = create(events=["wallet.*", "wallet.*", "*"])

    event = OutboxEvent.objects.get(type="webhook_endpoint.created")
    audit = AuditRecord.objects.get(action="webhook_endpoint.created")

    assert created.events == ("wallet.*", "*")  # duplicates dropped, order kept
    assert (event.aggregate_type, event.aggregate_id) == ("webhook_endpoint", created.id)
    assert event.data == {"endpoint_id": created.id, "url_host": "hooks.example.com", "events": ["wallet.*", "*"]}
    assert event.actor == "system:test"
    assert (audit.target_type, audit.target_id, audit.actor) == ("webhook_endpoint", created.id, "system:test")
    assert audit.after["url"] == "https://hooks.example.com/finfactory?<redacted>"
    assert audit.after["events"] == ["wallet.*", "*"] and audit.after["enabled"] is True
    for text in (str(event.data), str(audit.after), str(audit.before)):
        assert created.secret not in text
        assert "abc123" not in text  # the URL's query may hold a token


def test_list_pages_newest_first(webhooks):
    ids = [create(description=f"n{n}").id for n in range(5)]

    first = api.endpoint_list(limit=2)
    second = api.endpoint_list(limit=2, cursor=first.next_cursor)
    third = api.endpoint_list(limit=2, cursor=second.next_cursor)

    assert [e.id for e in first.items + second.items + third.items] == ids[::-1]
    assert first.has_more and second.has_more and not third.has_more
    assert third.next_cursor is None


def test_delete_is_soft_and_the_endpoint_leaves_the_api(webhooks):
    kept, gone = create(), create(events=["*"])

    deleted = api.endpoint_delete(endpoint_id=gone.id)

    assert deleted.id == gone.id and deleted.deleted_at is not None and deleted.enabled is False
    assert [e.id for e in api.endpoint_list().items] == [kept.id]
    for call in (api.endpoint_get, api.endpoint_delete, api.endpoint_secret):
        with pytest.raises(NotFound) as caught:
            call(endpoint_id=gone.id)
        assert caught.value.code == "not_found"
        assert [(e.field, e.code) for e in caught.value.errors] == [("endpoint_id", "not_found")]
    assert [e.id for e in api.endpoints_for_event(event_type="wallet.created")] == [kept.id]
    row = WebhookEndpoint.objects.get(public_id=gone.id)  # the delivery log may still refer to it
    assert row.deleted_at == deleted.deleted_at
    event = OutboxEvent.objects.get(type="webhook_endpoint.deleted")
    assert event.data == {"endpoint_id": gone.id, "url_host": "hooks.example.com", "events": ["*"]}
    audit = AuditRecord.objects.get(action="webhook_endpoint.deleted")
    assert audit.before["deleted_at"] is None and audit.after["deleted_at"] is not None
    assert gone.secret not in str(audit.before) + str(audit.after)


@pytest.mark.parametrize("endpoint_id", ["we_00000000000000000000000000", "wal_1", "", "x" * 500])
def test_an_unknown_id_is_not_found(webhooks, endpoint_id):
    before = written(webhooks)

    for call in (api.endpoint_get, api.endpoint_delete, api.endpoint_secret):
        with pytest.raises(NotFound) as caught:
            call(endpoint_id=endpoint_id)
        assert (caught.value.code, caught.value.errors[0].field) == ("not_found", "endpoint_id")
    assert written(webhooks) == before


def test_another_tenants_endpoint_is_not_found(webhooks, make_tenant):
    other = make_tenant("other").tenant
    with in_tenant(other):
        theirs = create()

    with in_tenant(webhooks):
        for call in (api.endpoint_get, api.endpoint_delete, api.endpoint_secret):
            with pytest.raises(NotFound):
                call(endpoint_id=theirs.id)
        assert api.endpoint_list().items == ()
        assert api.endpoints_for_event(event_type="wallet.created") == []
    with in_tenant(other):
        assert api.endpoint_get(endpoint_id=theirs.id).deleted_at is None


def test_endpoints_for_event_match_exact_names_prefix_wildcards_and_all(webhooks):
    exact = create(events=["qr.payment.confirmed"])
    top = create(events=["qr.*"])
    deep = create(events=["qr.payment.*"])
    everything = create(events=["*"])
    other = create(events=["wallet.*", "journal.posted"])
    paused = create(events=["*"])
    api.endpoint_disable(endpoint_id=paused.id, reason="maintenance")

    def matched(event_type: str) -> list[str]:
        return [e.id for e in api.endpoints_for_event(event_type=event_type)]

    assert matched("qr.payment.confirmed") == [exact.id, top.id, deep.id, everything.id]
    assert matched("qr.generated") == [top.id, everything.id]
    assert matched("wallet.limit.updated") == [everything.id, other.id]
    assert matched("journal.posted") == [everything.id, other.id]
    assert matched("customer.created") == [everything.id]
    # a prefix wildcard matches at a dot only: `qr.*` is not `qrph.*`
    assert matched("qrph.something") == [everything.id]
    api.endpoint_enable(endpoint_id=paused.id, reason="back")
    assert matched("customer.created") == [everything.id, paused.id]


def test_every_catalog_event_matches_star_and_its_own_prefixes(webhooks):
    everything = create(events=["*"])

    for event_type in catalog():
        assert [e.id for e in api.endpoints_for_event(event_type=event_type.name)] == [everything.id]


def test_disable_and_enable_are_audited_and_idempotent(webhooks):
    created = create()

    disabled = api.endpoint_disable(endpoint_id=created.id, reason="Endpoint down")
    again = api.endpoint_disable(endpoint_id=created.id, reason="Endpoint down")
    enabled = api.endpoint_enable(endpoint_id=created.id, reason="Endpoint back")

    assert (disabled.enabled, again.enabled, enabled.enabled) == (False, False, True)
    actions = list(AuditRecord.objects.filter(target_id=created.id).order_by("id").values_list("action", "reason"))
    assert actions == [
        ("webhook_endpoint.created", "Webhook endpoint created"),
        ("webhook_endpoint.disabled", "Endpoint down"),
        ("webhook_endpoint.enabled", "Endpoint back"),
    ]
    assert api.endpoint_get(endpoint_id=created.id).enabled is True


def test_a_tenant_has_at_most_fifty_live_endpoints(webhooks):
    endpoints = [create() for _ in range(services.MAX_ENDPOINTS)]
    before = written(webhooks)

    with pytest.raises(BusinessRuleViolation) as caught:
        create()

    assert caught.value.code == "too_many_endpoints" and caught.value.extra == {"limit": 50}
    assert written(webhooks) == before
    api.endpoint_delete(endpoint_id=endpoints[0].id)
    assert create().id
