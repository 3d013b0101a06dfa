from dataclasses import dataclass

import pytest
from django.db import transaction

from finfactory.apikeys.services import api_key_create
from finfactory.outbox.publish import publish
from finfactory.tenancy.context import in_tenant
from tests import outbox_consumers  # noqa: F401
from tests.helpers import api_client, problem


@dataclass
class TenantWithEvents:
    tenant: object
    api_key: object
    events: list


@pytest.fixture
def acme(make_tenant):
    provisioned = make_tenant("acme")
    with in_tenant(provisioned.tenant), transaction.atomic():
        events = [publish("test.counted", f"thing-{n % 2}", {"n": n}) for n in range(5)]
        events.append(publish("outbox.probe", "probe-1", {"n": 99}))
    return TenantWithEvents(provisioned.tenant, provisioned.api_key, events)


def test_events_are_listed_newest_first_with_the_envelope(acme):
    page = api_client(acme.api_key.secret).get("/v1/events?limit=4").json()

    assert [e["id"] for e in page["data"]] == [e.id for e in reversed(acme.events)][:4]
    first = page["data"][0]
    assert set(first) >= {"id", "type", "version", "occurred_at", "aggregate_id", "data"}
    assert first["type"] == "outbox.probe" and first["data"] == {"n": 99}
    assert page["has_more"] is True


def test_events_filter_by_type_and_page_with_the_cursor(acme):
    client = api_client(acme.api_key.secret)

    first = client.get("/v1/events?type=test.counted&limit=3").json()
    second = client.get(f"/v1/events?type=test.counted&limit=3&cursor={first['next_cursor']}").json()

    ids = [e["id"] for e in first["data"] + second["data"]]
    assert ids == [e.id for e in reversed(acme.events[:5])]
    assert second["has_more"] is False


def test_another_tenants_event_is_not_found(acme, make_tenant):
    other = make_tenant("other")

    problem(api_client(other.api_key.secret).get(f"/v1/events/{acme.events[0].id}"), 404, "not_found")
    assert api_client(other.api_key.secret).get("/v1/events").json()["data"] == []
    assert api_client(acme.api_key.secret).get(f"/v1/events/{acme.events[0].id}").json()["id"] == acme.events[0].id


def test_events_need_the_events_read_scope(acme):
    key = api_key_create(tenant=acme.tenant, name="wallets only", scopes=["wallets:read"])

    problem(api_client(key.secret).get("/v1/events"), 403, "insufficient_scope")


def test_metrics_need_the_token_and_report_the_outbox(acme, client, settings):
    settings.METRICS_TOKEN = "s3cret-token"

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()

    assert f'finfactory_outbox_pending{{tenant="{acme.tenant.slug}"}} 6.0' in body
    assert "finfactory_outbox_drain_lag_seconds" in body
