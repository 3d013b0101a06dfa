import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection, transaction

from finfactory.apikeys.models import ApiKey
from finfactory.idempotency.models import IdempotencyRecord
from tests.helpers import api_client, error_fields, problem
from tests.kernel.idempotency import views

BODY = {"name": "ci-key", "scopes": ["wallets:read"]}


@pytest.fixture
def acme(make_tenant):
    return make_tenant("acme")


@pytest.fixture
def test_views(settings):
    settings.ROOT_URLCONF = settings.PUBLIC_SCHEMA_URLCONF = "tests.kernel.idempotency.views"
    views.CALLS["flaky"] = 0


def keys_named(tenant, name: str) -> int:
    return ApiKey.objects.filter(tenant=tenant, name=name).count()


def test_a_replay_returns_the_first_status_and_body_and_does_nothing_again(acme):
    client = api_client(acme.api_key.secret)

    first = client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()  # including the secret, stored encrypted
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert keys_named(acme.tenant, "ci-key") == 1


def test_the_stored_response_is_encrypted_at_rest(acme):
    client = api_client(acme.api_key.secret)
    secret = client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-enc").json()["secret"]

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT response_body FROM "{acme.tenant.schema_name}".idempotency_idempotencyrecord')
        stored = bytes(cursor.fetchone()[0])

    assert secret.encode() not in stored
    assert b"ci-key" not in stored


def test_the_same_key_with_a_different_body_is_422_naming_the_fields(acme):
    client = api_client(acme.api_key.secret)
    client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = client.post(
        "/v1/api-keys", {"name": "other", "scopes": ["wallets:read"]}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert error_fields(problem(response, 422, "idempotency_key_reused")) == ["name"]
    assert keys_named(acme.tenant, "other") == 0


def test_the_same_key_on_another_endpoint_is_422(acme):
    client = api_client(acme.api_key.secret)
    client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    response = client.post(
        f"/v1/api-keys/{acme.api_key.key.public_id}/rotate", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )

    assert "(endpoint)" in error_fields(problem(response, 422, "idempotency_key_reused"))


def test_keys_are_scoped_per_api_key(acme):
    other = api_client(acme.api_key.secret).post("/v1/api-keys", {**BODY, "scopes": ["keys:manage"]}, format="json")
    first = api_client(acme.api_key.secret).post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same")

    second = api_client(other.json()["secret"]).post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
    assert "Idempotent-Replayed" not in second


def test_a_400_is_not_stored_so_the_corrected_request_with_the_same_key_runs(acme):
    client = api_client(acme.api_key.secret)
    bad, good = {"name": "x", "scopes": ["root"]}, {"name": "x", "scopes": ["events:read"]}

    first = client.post("/v1/api-keys", bad, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    corrected = client.post("/v1/api-keys", good, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    again = client.post("/v1/api-keys", good, format="json", HTTP_IDEMPOTENCY_KEY="k-4")

    problem(first, 400, "validation_error")
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (201, "true", corrected.json())


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_a_malformed_key_is_400_naming_the_header(acme, key):
    response = api_client(acme.api_key.secret).post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert error_fields(problem(response, 400, "invalid_idempotency_key")) == ["Idempotency-Key"]
    assert keys_named(acme.tenant, "ci-key") == 0


def test_a_missing_key_where_required_is_400_and_nothing_is_written(acme, test_views):
    response = api_client(acme.api_key.secret).post("/v1/test-required", {"name": "req"}, format="json")

    assert error_fields(problem(response, 400, "idempotency_key_required")) == ["Idempotency-Key"]
    assert keys_named(acme.tenant, "req") == 0


def test_a_5xx_is_not_stored_and_its_effects_are_rolled_back(acme, test_views):
    client = api_client(acme.api_key.secret)

    failed = client.post("/v1/test-flaky", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    retried = client.post("/v1/test-flaky", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-5")

    problem(failed, 500, "internal_error")
    assert retried.status_code == 201 and retried.json()["attempt"] == 2
    assert "Idempotent-Replayed" not in retried
    assert keys_named(acme.tenant, "flaky-1") == 0  # the failed attempt's write did not survive
    assert keys_named(acme.tenant, "flaky-2") == 1


def test_no_effect_survives_without_its_record(acme):
    """If the record cannot be written, the effect written before it is rolled back with it."""
    schema = acme.tenant.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION "{schema}".refuse_record() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT ON "{schema}".idempotency_idempotencyrecord
            FOR EACH ROW EXECUTE FUNCTION "{schema}".refuse_record();
            """
        )

    response = api_client(acme.api_key.secret).post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-6")

    assert response.status_code == 500
    assert keys_named(acme.tenant, "ci-key") == 0
    assert not IdempotencyRecord.objects.exists()


def test_records_expire_and_are_purged(acme):
    from datetime import timedelta

    from django.utils import timezone

    from finfactory.idempotency.tasks import purge_expired_records
    from finfactory.tenancy.context import in_tenant

    client = api_client(acme.api_key.secret)
    client.post("/v1/api-keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post("/v1/api-keys", {**BODY, "name": "new"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    with in_tenant(acme.tenant):
        record = IdempotencyRecord.objects.get(key="old")
        assert record.expires_at - record.created_at >= timedelta(hours=24)
        IdempotencyRecord.objects.filter(key="old").update(expires_at=timezone.now() - timedelta(seconds=1))

    purged = purge_expired_records()

    assert purged[acme.tenant.slug] == 1
    with in_tenant(acme.tenant):
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_fifty_concurrent_identical_posts_have_exactly_one_effect(committed_tenants, api_server):
    acme = committed_tenants("conc")
    url = f"{api_server}/v1/api-keys"
    headers = {"Authorization": f"Bearer {acme.api_key.secret}", "Idempotency-Key": "burst-1"}
    start = threading.Barrier(50)

    def fire(_):
        start.wait()
        response = requests.post(url, json=BODY, headers=headers, timeout=30)
        return response.status_code, response.headers.get("Idempotent-Replayed"), response.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(fire, range(50)))

    statuses = [status for status, _, _ in results]
    originals = [body for status, replayed, body in results if status == 201 and replayed is None]
    replays = [body for status, replayed, body in results if status == 201 and replayed == "true"]
    in_use = [body for status, _, body in results if status == 409]
    assert len(originals) == 1
    assert len(replays) + len(in_use) == 49, statuses
    assert all(body == originals[0] for body in replays)
    assert all(body["code"] == "idempotency_key_in_use" for body in in_use)
    with transaction.atomic():
        assert keys_named(acme.tenant, "ci-key") == 1
