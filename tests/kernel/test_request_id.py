import re

import pytest

pytestmark = pytest.mark.usefixtures("db_access")

GENERATED = re.compile(r"^req_[0-9a-f]{32}$")


@pytest.mark.parametrize(
    "inbound",
    [
        "3f2b8c1e-7a4d-4f7e-9c55-0b1d2e3f4a5b",
        "req_0123456789abcdef",
        "01JD0ZK3Q4S5T6V7W8X9Y0Z1A2",
        "trace:abc.def-1",
    ],
)
def test_a_valid_inbound_request_id_is_echoed(client, inbound):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=inbound)

    assert response["X-Request-Id"] == inbound


@pytest.mark.parametrize("inbound", ["", "has space", "x" * 129, "<script>", "-leading-dash", "tab\there"])
def test_an_invalid_inbound_request_id_is_replaced(client, inbound):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=inbound)

    assert GENERATED.match(response["X-Request-Id"])


def test_every_response_has_a_fresh_request_id_including_errors(client):
    first = client.get("/healthz")
    not_found = client.get("/no-such-page")

    assert not_found.status_code == 404
    assert GENERATED.match(first["X-Request-Id"])
    assert GENERATED.match(not_found["X-Request-Id"])
    assert first["X-Request-Id"] != not_found["X-Request-Id"]
