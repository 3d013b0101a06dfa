"""A sandbox tenant takes only ff_test_ keys and a live tenant only ff_live_ keys: at issue, and
again when a key is presented (a key planted past the issuing rule is still refused)."""

import pytest

from finfactory.apikeys.models import ApiKey, KeyKind
from finfactory.apikeys.secrets import digest, generate, visible_prefix
from finfactory.apikeys.services import api_key_create
from finfactory.audit.models import AuditRecord
from finfactory.errors import InvalidInput
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from tests.helpers import api_client, problem


@pytest.fixture
def sandbox(make_tenant):
    return make_tenant("sbx")


@pytest.fixture
def live(make_tenant):
    return make_tenant("prod", environment="live")


def test_tenants_are_sandboxes_with_test_keys_unless_provisioned_live(sandbox, live):
    assert (sandbox.tenant.environment, sandbox.api_key.secret[:8]) == ("sandbox", "ff_test_")
    assert (live.tenant.environment, live.api_key.secret[:8]) == ("live", "ff_live_")
    assert api_client(live.api_key.secret).get("/v1/api-keys").status_code == 200


@pytest.mark.parametrize(("which", "mode"), [("sandbox", "live"), ("live", "test")])
def test_issuing_a_key_of_the_other_mode_is_refused_and_writes_nothing(request, which, mode):
    tenant = request.getfixturevalue(which).tenant
    keys, audits = ApiKey.objects.count(), AuditRecord.objects.count()

    with pytest.raises(InvalidInput) as refused:
        api_key_create(tenant=tenant, name="wrong mode", mode=mode)

    assert refused.value.code == "key_mode_mismatch"
    assert [e.field for e in refused.value.errors] == ["mode"]
    assert (ApiKey.objects.count(), AuditRecord.objects.count()) == (keys, audits)


def test_a_live_key_on_a_sandbox_tenant_is_refused_with_401_and_nothing_is_written(sandbox):
    secret = generate("ff_live_")  # planted directly: issuing would refuse it
    ApiKey.objects.create(
        kind=KeyKind.TENANT, tenant=sandbox.tenant, name="planted", mode="live",
        prefix=visible_prefix(secret), digest=digest(secret), scopes=list(sandbox.api_key.key.scopes),
    )  # fmt: skip
    with in_tenant(sandbox.tenant):
        before = AuditRecord.objects.count()
    client = api_client(secret)

    body = problem(client.post("/v1/customers", {"first_name": "A", "last_name": "B", "email": "a@example.com"},
                               format="json"), 401, "key_mode_mismatch")  # fmt: skip
    assert "ff_live_" in body["detail"] and "sandbox" in body["detail"]
    problem(client.get("/v1/wallets"), 401, "key_mode_mismatch")
    with in_tenant(sandbox.tenant):
        from contexts.identity.models import Customer

        assert Customer.objects.count() == 0
        assert AuditRecord.objects.count() == before


def test_a_tenant_whose_environment_changed_refuses_its_old_keys(live):
    Tenant.objects.filter(pk=live.tenant.pk).update(environment="sandbox")
    from django.core.cache import cache

    cache.clear()  # resolutions are cached; a real change would go through the key cache's expiry

    problem(api_client(live.api_key.secret).get("/v1/api-keys"), 401, "key_mode_mismatch")


def test_the_platform_api_provisions_a_live_tenant_with_a_live_key(make_tenant):
    from finfactory.apikeys.services import api_key_create as create

    platform_key = create(tenant=None, name="ops").secret
    client = api_client(platform_key)

    created = client.post("/platform/v1/tenants", {"slug": "golive", "name": "Go Live", "environment": "live"},
                          format="json")  # fmt: skip
    refused = client.post("/platform/v1/tenants", {"slug": "odd", "name": "Odd", "environment": "staging"},
                          format="json")  # fmt: skip

    assert created.status_code == 201, created.json()
    assert (created.json()["environment"], created.json()["api_key"][:8]) == ("live", "ff_live_")
    assert problem(refused, 400, "validation_error")["errors"][0]["field"] == "environment"
    assert not Tenant.objects.filter(slug="odd").exists()
