from finfactory.apikeys.services import api_key_create
from tests.helpers import api_client


def test_cursor_pages_are_newest_first_and_stable_under_concurrent_inserts(make_tenant):
    acme = make_tenant("acme")
    for index in range(5):
        api_key_create(tenant=acme.tenant, name=f"k{index}", scopes=["wallets:read"])
    client = api_client(acme.api_key.secret)

    first = client.get("/v1/api-keys?limit=3").json()
    # Keys created between pages must not shift the next page.
    for index in range(3):
        api_key_create(tenant=acme.tenant, name=f"late{index}", scopes=["wallets:read"])
    second = client.get(f"/v1/api-keys?limit=3&cursor={first['next_cursor']}").json()

    assert [k["name"] for k in first["data"]] == ["k4", "k3", "k2"]
    assert first["has_more"] is True
    assert [k["name"] for k in second["data"]] == ["k1", "k0", "default"]
    assert second["has_more"] is False
    assert second["next_cursor"] is None


def test_default_page_size_is_20(make_tenant):
    acme = make_tenant("acme")
    for index in range(24):
        api_key_create(tenant=acme.tenant, name=f"k{index}", scopes=["wallets:read"])

    page = api_client(acme.api_key.secret).get("/v1/api-keys").json()

    assert len(page["data"]) == 20
    assert page["has_more"] is True
