import re

import pytest
from django.core.cache import cache
from django.db import connection

from finfactory.apikeys.models import ApiKey
from finfactory.apikeys.secrets import digest
from finfactory.apikeys.services import api_key_create, api_key_revoke
from finfactory.platform.services import tenant_activate, tenant_suspend
from tests.helpers import api_client, problem


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme")


@pytest.fixture
def globex(make_tenant):
    return make_tenant("globex")


def test_keys_are_stored_only_as_a_digest_and_a_visible_prefix(acme):
    secret = acme.api_key.secret
    key = ApiKey.objects.get(pk=acme.api_key.key.pk)

    assert re.fullmatch(r"ff_test_[A-Za-z0-9]{40}", secret)  # 40 base62 chars ≈ 238 bits
    assert key.digest == digest(secret)
    assert key.prefix == secret[:14]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM apikeys_apikey WHERE digest = %s OR prefix = %s", [secret, secret])
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT row_to_json(k)::text FROM apikeys_apikey k WHERE id = %s", [key.pk])
        assert secret[14:] not in cursor.fetchone()[0]


def test_another_tenants_key_is_not_found_for_reading_or_writing(acme, globex):
    other_key = globex.api_key.key.public_id
    client = api_client(acme.api_key.secret)

    problem(client.get(f"/v1/api-keys/{other_key}"), 404, "not_found")
    problem(client.post(f"/v1/api-keys/{other_key}/revoke"), 404, "not_found")
    problem(client.post(f"/v1/api-keys/{other_key}/rotate", {}, format="json"), 404, "not_found")
    listed = {k["id"] for k in client.get("/v1/api-keys").json()["data"]}

    assert other_key not in listed
    assert ApiKey.objects.get(public_id=other_key).revoked_at is None
    assert ApiKey.objects.filter(tenant=globex.tenant).count() == 1


def test_the_key_decides_the_tenant_whatever_the_host(acme, globex):
    response = api_client(acme.api_key.secret).get("/v1/api-keys", HTTP_HOST="globex.example.com")

    assert response.status_code == 200
    assert [k["id"] for k in response.json()["data"]] == [acme.api_key.key.public_id]


def test_a_revoked_key_is_refused_at_once(acme):
    client = api_client(acme.api_key.secret)
    assert client.get("/v1/api-keys").status_code == 200  # now cached

    api_key_revoke(key=acme.api_key.key)

    problem(client.get("/v1/api-keys"), 401, "invalid_api_key")


def test_revocation_through_the_api_by_a_second_key(acme):
    second = api_key_create(tenant=acme.tenant, name="second", scopes=["keys:manage"])
    victim = api_client(acme.api_key.secret)
    assert victim.get("/v1/api-keys").status_code == 200

    response = api_client(second.secret).post(f"/v1/api-keys/{acme.api_key.key.public_id}/revoke")

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    problem(victim.get("/v1/api-keys"), 401, "invalid_api_key")


def test_a_stale_cache_entry_expires_within_five_seconds(acme, settings):
    """Even if a process missed the invalidation, the cached resolution lives ≤ 5 s."""
    assert settings.API_KEY_CACHE_SECONDS <= 5
    api_client(acme.api_key.secret).get("/v1/api-keys")

    ttl = cache.ttl(f"apikey:{digest(acme.api_key.secret)}")

    assert 0 < ttl <= 5


def test_rotation_issues_a_new_key_and_the_old_one_works_until_the_grace_ends(acme):
    client = api_client(acme.api_key.secret)

    rotated = client.post(f"/v1/api-keys/{acme.api_key.key.public_id}/rotate", {"grace_seconds": 3600}, format="json")

    assert rotated.status_code == 201
    new_secret = rotated.json()["secret"]
    assert new_secret != acme.api_key.secret
    assert client.get("/v1/api-keys").status_code == 200  # old key, inside the grace period
    assert api_client(new_secret).get("/v1/api-keys").status_code == 200
    old = ApiKey.objects.get(pk=acme.api_key.key.pk)
    assert old.replaced_by.public_id == rotated.json()["id"]


def test_rotation_with_no_grace_retires_the_old_key_at_once(acme):
    client = api_client(acme.api_key.secret)

    new_secret = client.post(
        f"/v1/api-keys/{acme.api_key.key.public_id}/rotate", {"grace_seconds": 0}, format="json"
    ).json()["secret"]

    problem(client.get("/v1/api-keys"), 401, "invalid_api_key")
    assert api_client(new_secret).get("/v1/api-keys").status_code == 200


def test_a_key_lacking_the_scope_gets_403(acme):
    reader = api_key_create(tenant=acme.tenant, name="reader", scopes=["wallets:read"])

    body = problem(api_client(reader.secret).get("/v1/api-keys"), 403, "insufficient_scope")

    assert "keys:manage" in body["detail"]


def test_a_suspended_tenants_keys_get_403_and_work_again_after_activation(acme):
    client = api_client(acme.api_key.secret)
    assert client.get("/v1/api-keys").status_code == 200

    tenant_suspend(tenant=acme.tenant)
    suspended = client.get("/v1/api-keys")
    tenant_activate(tenant=acme.tenant)
    reactivated = client.get("/v1/api-keys")

    problem(suspended, 403, "tenant_suspended")
    assert reactivated.status_code == 200


def test_over_the_rate_limit_is_429_with_retry_after(acme):
    acme.tenant.rate_limits = {"keys:manage": "3/min"}
    acme.tenant.save(update_fields=["rate_limits"])
    client = api_client(acme.api_key.secret)

    statuses = [client.get("/v1/api-keys").status_code for _ in range(3)]
    limited = client.get("/v1/api-keys")

    assert statuses == [200, 200, 200]
    problem(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_rate_limits_are_per_key(acme):
    acme.tenant.rate_limits = {"keys:manage": "2/min"}
    acme.tenant.save(update_fields=["rate_limits"])
    other = api_key_create(tenant=acme.tenant, name="other", scopes=["keys:manage"])
    first = api_client(acme.api_key.secret)

    [first.get("/v1/api-keys") for _ in range(2)]

    assert first.get("/v1/api-keys").status_code == 429
    assert api_client(other.secret).get("/v1/api-keys").status_code == 200


def test_platform_and_tenant_keys_do_not_cross_apis(acme):
    platform = api_key_create(tenant=None, name="ops")

    problem(api_client(platform.secret).get("/v1/api-keys"), 401, "invalid_api_key")
    problem(api_client(acme.api_key.secret).get("/platform/v1/tenants"), 401, "invalid_api_key")


def test_key_lifecycle_is_in_the_tenants_audit_trail_with_the_acting_key(acme):
    from finfactory.audit.models import AuditRecord
    from finfactory.tenancy.context import in_tenant

    client = api_client(acme.api_key.secret)
    created = client.post("/v1/api-keys", {"name": "ci", "scopes": ["wallets:read"]}, format="json").json()
    client.post(f"/v1/api-keys/{created['id']}/revoke", HTTP_X_REQUEST_ID="req_revoke1")

    with in_tenant(acme.tenant):
        revoked = AuditRecord.objects.get(action="apikey.revoked")
        created_record = AuditRecord.objects.get(action="apikey.created", target_id=created["id"])
    assert revoked.target_id == created["id"]
    assert revoked.actor == f"apikey:{acme.api_key.secret[:14]}"
    assert revoked.request_id == "req_revoke1"
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"] is not None
    assert created_record.actor == f"apikey:{acme.api_key.secret[:14]}"
