import pytest

from finfactory.apikeys.services import api_key_create
from finfactory.tenancy.models import Tenant
from tests.helpers import api_client, error_fields, problem


@pytest.fixture
def operator(db):
    return api_client(api_key_create(tenant=None, name="ops").secret)


def test_operators_create_list_suspend_and_activate_tenants(operator):
    created = operator.post("/platform/v1/tenants", {"slug": "fresh-co", "name": "Fresh Co"}, format="json")
    listed = operator.get("/platform/v1/tenants").json()
    suspended = operator.post("/platform/v1/tenants/fresh-co/suspend")
    tenant_key = api_client(created.json()["api_key"])
    refused = tenant_key.get("/v1/api-keys")
    activated = operator.post("/platform/v1/tenants/fresh-co/activate")

    assert created.status_code == 201
    assert created.json()["slug"] == "fresh-co" and created.json()["status"] == "active"
    assert [t["slug"] for t in listed["data"]] == ["fresh-co"]
    assert listed["has_more"] is False
    assert suspended.json()["status"] == "suspended"
    problem(refused, 403, "tenant_suspended")
    assert activated.json()["status"] == "active"
    assert tenant_key.get("/v1/api-keys").status_code == 200


def test_bad_slug_through_the_api_is_400_naming_slug(operator):
    response = operator.post("/platform/v1/tenants", {"slug": "Public!", "name": "X"}, format="json")

    assert error_fields(problem(response, 400, "invalid_slug")) == ["slug"]
    assert not Tenant.objects.exists()


def test_duplicate_through_the_api_is_409(operator):
    operator.post("/platform/v1/tenants", {"slug": "twice", "name": "X"}, format="json")

    response = operator.post("/platform/v1/tenants", {"slug": "twice", "name": "X"}, format="json")

    problem(response, 409, "tenant_exists")


def test_platform_scopes_are_enforced(db):
    reader = api_client(api_key_create(tenant=None, name="ro", scopes=["tenants:read"]).secret)

    assert reader.get("/platform/v1/tenants").status_code == 200
    problem(
        reader.post("/platform/v1/tenants", {"slug": "nope", "name": "X"}, format="json"), 403, "insufficient_scope"
    )


def test_unknown_tenant_is_404(operator):
    problem(operator.post("/platform/v1/tenants/ghost/suspend"), 404, "not_found")
