"""Webhook endpoints in the back office: listed and searched without the secret, disabled and
enabled through the services (audited as the staff user); never added, edited or deleted here."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from contexts.webhooks import api
from contexts.webhooks.models import WebhookEndpoint
from finfactory.audit.models import AuditRecord
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain

HOST = "whk.admin.localhost"
LIST = "/admin/webhooks/webhookendpoint/"


@pytest.fixture
def staff(module_tenant, db, client):
    Domain.objects.create(domain=HOST, tenant=module_tenant.tenant, is_primary=True)
    with in_tenant(module_tenant.tenant):
        user = get_user_model().objects.create_superuser(username="whk-admin", password=None, email="a@example.com")
        client.force_login(user)
    connection.set_schema_to_public()
    client.user = user
    return client


@pytest.fixture
def endpoints(module_tenant, db):
    with in_tenant(module_tenant.tenant), acting_as("system:test"):
        made = [
            api.endpoint_create(url="https://one.example.com/hook", events=["wallet.*"], description="first"),
            api.endpoint_create(url="https://two.example.com/hook", events=["*"], description="second"),
        ]
    connection.set_schema_to_public()
    return made


def test_the_list_and_the_page_never_show_the_secret(staff, endpoints):
    listed = staff.get(LIST, HTTP_HOST=HOST)
    searched = staff.get(LIST, {"q": "two.example"}, HTTP_HOST=HOST)

    assert listed.status_code == searched.status_code == 200
    assert endpoints[0].id.encode() in listed.content and endpoints[1].id.encode() in listed.content
    assert endpoints[1].id.encode() in searched.content and endpoints[0].id.encode() not in searched.content
    for endpoint in endpoints:
        detail = staff.get(f"{LIST}{_pk(staff, endpoint.id)}/change/", HTTP_HOST=HOST)
        assert detail.status_code == 200
        assert f"whsec_…{endpoint.secret_last4}".encode() in detail.content
        for response in (listed, searched, detail):
            assert endpoint.secret.encode() not in response.content
            assert endpoint.secret[6:-4].encode() not in response.content
        assert b'name="_save"' not in detail.content  # read-only page


def _pk(staff, public_id: str) -> int:
    tenant = Domain.objects.get(domain=HOST).tenant
    with in_tenant(tenant):
        pk = WebhookEndpoint.objects.get(public_id=public_id).pk
    connection.set_schema_to_public()
    return pk


def test_nothing_is_added_or_deleted_in_the_admin(staff, endpoints):
    pk = _pk(staff, endpoints[0].id)

    assert staff.get(f"{LIST}add/", HTTP_HOST=HOST).status_code == 403
    assert staff.get(f"{LIST}{pk}/delete/", HTTP_HOST=HOST).status_code == 403
    assert staff.post(f"{LIST}{pk}/change/", {"url": "https://evil.example"}, HTTP_HOST=HOST).status_code == 403


def test_staff_disable_and_enable_endpoints_through_the_service(staff, endpoints, module_tenant):
    ids = [_pk(staff, endpoint.id) for endpoint in endpoints]

    disabled = staff.post(LIST, {"action": "disable_endpoints", "_selected_action": ids}, HTTP_HOST=HOST)
    with in_tenant(module_tenant.tenant):
        states_after_disable = sorted(WebhookEndpoint.objects.values_list("enabled", flat=True))
        assert api.endpoints_for_event(event_type="wallet.created") == []
    enabled = staff.post(LIST, {"action": "enable_endpoints", "_selected_action": ids[:1]}, HTTP_HOST=HOST)

    assert disabled.status_code == enabled.status_code == 302
    assert states_after_disable == [False, False]
    with in_tenant(module_tenant.tenant):
        assert dict(WebhookEndpoint.objects.values_list("public_id", "enabled")) == {
            endpoints[0].id: True,
            endpoints[1].id: False,
        }
        records = list(
            AuditRecord.objects.filter(action__in=["webhook_endpoint.disabled", "webhook_endpoint.enabled"])
            .order_by("id")
            .values_list("action", "target_id", "actor")
        )
    connection.set_schema_to_public()
    actor = f"user:{staff.user.pk}"
    assert sorted(records[:2]) == [
        ("webhook_endpoint.disabled", endpoints[0].id, actor),
        ("webhook_endpoint.disabled", endpoints[1].id, actor),
    ]
    assert records[2:] == [("webhook_endpoint.enabled", endpoints[0].id, actor)]


def test_a_deleted_endpoint_is_not_enabled_again(staff, endpoints, module_tenant):
    with in_tenant(module_tenant.tenant), acting_as("system:test"):
        api.endpoint_delete(endpoint_id=endpoints[0].id)
    connection.set_schema_to_public()
    pk = _pk(staff, endpoints[0].id)

    response = staff.post(LIST, {"action": "enable_endpoints", "_selected_action": [pk]}, HTTP_HOST=HOST)

    assert response.status_code == 302
    with in_tenant(module_tenant.tenant):
        row = WebhookEndpoint.objects.get(public_id=endpoints[0].id)
        assert (row.enabled, row.deleted_at is not None) == (False, True)
    connection.set_schema_to_public()


def test_the_public_admin_does_not_offer_webhooks(db, client, admin_user):
    client.force_login(admin_user)

    assert client.get(LIST).status_code in (403, 404)
