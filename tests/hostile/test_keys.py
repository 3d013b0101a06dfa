"""Hostile credentials: no key, a malformed Authorization header, an unknown, revoked, expired or
platform key — 401 problem+json with WWW-Authenticate (docs/errors.md: `not_authenticated` without
a header, `invalid_api_key` for the rest); a key without the operation's scope — 403
`insufficient_scope`, on every endpoint of the tenant API. Nothing is written, whatever the request
asked for: the requests are valid in all but their key, and name the caller's own resources.
"""

from __future__ import annotations

import pytest

from finfactory.apikeys.services import api_key_create, api_key_revoke, api_key_rotate

from .conftest import api_endpoints, path_values, refusal, send


def _as_wsgi(header: str) -> str:
    """A header as a WSGI server hands it to Django: its UTF-8 bytes read as ISO-8859-1."""
    return header.encode().decode("latin-1")


# Requests valid in all but their key: a money movement and an operator's write. (Authentication
# runs before any view, the same for every endpoint; the scope check below covers every one.)
TARGETS = {
    "cash in": lambda a: ("POST", "/v1/cash-ins", {"wallet_id": a["wallet_id"], "amount": 100, "currency": "PHP"}),
    "freeze a ledger account": lambda a: ("POST", f"/internal/ledger/accounts/{a['account_id']}/freeze", {}),
}

MALFORMED = {
    "empty": lambda secret: "",
    "scheme only": lambda secret: "Bearer",
    "scheme and a space": lambda secret: "Bearer ",
    "scheme and blanks": lambda secret: "Bearer    ",
    "basic auth": lambda secret: "Basic dXNlcjpwYXNz",
    "another scheme": lambda secret: f"Token {secret}",
    "no scheme": lambda secret: secret,
    "two tokens": lambda secret: f"Bearer {secret} {secret}",
    "the key twice, run together": lambda secret: f"Bearer {secret}{secret}",
    "garbage": lambda secret: "Bearer !!!'; DROP TABLE apikeys_apikey; --",
    "non-ASCII (UTF-8)": lambda secret: _as_wsgi("Bearer ff_test_clé"),
    "Cyrillic": lambda secret: _as_wsgi("Bearer ключ"),
    "an emoji": lambda secret: _as_wsgi(f"Bearer {secret[:-1]}🔑"),
    "10,000 characters": lambda secret: "Bearer " + "A" * 10_000,
    "1 MiB": lambda secret: "Bearer ff_test_" + "a" * (1024 * 1024),
    "well formed, unknown": lambda secret: "Bearer ff_test_" + "Z" * 40,
    "one character changed": lambda secret: f"Bearer {secret[:-1]}{'a' if secret[-1] != 'a' else 'b'}",
    "truncated": lambda secret: f"Bearer {secret[:-1]}",
    "upper-cased": lambda secret: f"Bearer {secret.upper()}",
    "a NUL inside": lambda secret: f"Bearer {secret[:10]}\x00{secret[10:]}",
}


def _unauthorised(world, target: str, authorization: str | None, codes) -> None:
    method, path, body = TARGETS[target](world.a.ids)
    client = world.client(secret="")
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    with world.watch.unchanged(caller=None):
        response = send(client, method, path, body=body, **headers)

    refusal(response, 401, codes)
    assert response["WWW-Authenticate"].startswith("Bearer"), response.headers


@pytest.mark.parametrize("target", TARGETS)
def test_no_authorization_header_is_401_not_authenticated(world, target):
    _unauthorised(world, target, None, "not_authenticated")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("header", MALFORMED)
def test_a_malformed_or_unknown_key_is_401(world, header, target):
    # An empty header is as good as none: either code says "no usable key".
    codes = {"not_authenticated", "invalid_api_key"} if header == "empty" else "invalid_api_key"

    _unauthorised(world, target, MALFORMED[header](world.a.secret), codes)


@pytest.mark.parametrize("target", TARGETS)
def test_a_revoked_key_is_401_at_once_even_right_after_it_was_used(world, target):
    issued = api_key_create(tenant=world.a.tenant, name="to revoke")
    used = send(
        world.client(""), "GET", "/v1/wallets", query={"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {issued.secret}"
    )
    assert used.status_code == 200, used.content[:300]  # resolved, and cached

    api_key_revoke(key=issued.key)

    _unauthorised(world, target, f"Bearer {issued.secret}", "invalid_api_key")


@pytest.mark.parametrize("target", TARGETS)
def test_an_expired_key_is_401(world, target):
    """Rotation without a grace period: the old key expires at once, the new one works."""
    issued = api_key_create(tenant=world.a.tenant, name="to rotate")
    replacement = api_key_rotate(key=issued.key, grace_seconds=0)

    _unauthorised(world, target, f"Bearer {issued.secret}", "invalid_api_key")
    works = send(
        world.client(""), "GET", "/v1/wallets", query={"limit": 1}, HTTP_AUTHORIZATION=f"Bearer {replacement.secret}"
    )
    assert works.status_code == 200, works.content[:300]


@pytest.mark.parametrize("target", TARGETS)
def test_a_platform_key_is_401_on_the_tenant_api(world, target):
    issued = api_key_create(tenant=None, name="operator")

    _unauthorised(world, target, f"Bearer {issued.secret}", "invalid_api_key")


SCOPED = [
    endpoint for endpoint in api_endpoints() if not endpoint.public and not endpoint.route.startswith("platform/")
]


def test_every_tenant_endpoint_needs_a_scope():
    assert SCOPED
    assert [str(endpoint) for endpoint in SCOPED if endpoint.scope is None] == []


@pytest.mark.parametrize("endpoint", SCOPED, ids=str)
def test_a_key_without_the_operations_scope_is_403_on_every_endpoint(world, endpoint):
    """A key holding every tenant scope but the one the operation needs, on the caller's own
    resources, with a body valid enough to run: 403 naming the scope, before anything runs."""
    secret = world.a.without[endpoint.scope]
    path = endpoint.path(**path_values(endpoint, world.a.ids))
    body = {} if endpoint.method == "POST" else None

    with world.watch.unchanged(caller=None):
        response = send(world.client(secret), endpoint.method, path, body=body)

    problem = refusal(response, 403, "insufficient_scope")
    assert endpoint.scope in problem["detail"], problem
