"""Refused input names the field with a stable code and writes nothing (no endpoint, event or
audit record)."""

import pytest

from contexts.webhooks import api
from finfactory.errors import InvalidInput
from tests.contexts.webhooks.conftest import written

GOOD_URL = "https://hooks.example.com/in"


def refused(webhooks, **fields) -> list[tuple[str, str]]:
    before = written(webhooks)
    with pytest.raises(InvalidInput) as caught:
        api.endpoint_create(**{"url": GOOD_URL, "events": ["wallet.created"], **fields})
    assert caught.value.code == "validation_error"
    assert written(webhooks) == before
    return [(error.field, error.code) for error in caught.value.errors]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        (None, "required"),
        ("", "required"),
        (42, "invalid_url"),
        ("https://example.com/" + "a" * 2029, "too_long"),
        ("hooks.example.com/in", "invalid_scheme"),
        ("/relative/path", "invalid_scheme"),
        ("ftp://example.com/in", "invalid_scheme"),
        ("javascript:alert(1)", "invalid_scheme"),
        ("https:example.com", "invalid_scheme"),
        ("https://user:pass@example.com/in", "credentials_not_allowed"),
        ("https://token@example.com/in", "credentials_not_allowed"),
        ("https://example.com/in#section", "fragment_not_allowed"),
        ("https://example.com/in#", "fragment_not_allowed"),
        ("https://exa mple.com/in", "invalid_url"),
        ("https://example.com/in\n", "invalid_url"),
        ("https://bücher.example/in", "invalid_url"),
        ("https://example.com:99999/in", "invalid_url"),
        ("https://example.com:0/in", "invalid_host"),
        ("https:///in", "invalid_host"),
        ("https://-bad-.example.com/in", "invalid_host"),
        ("https://good.com\\evil.com/in", "invalid_host"),
        ("https://127.1/in", "invalid_host"),
        ("https://2130706433/in", "invalid_host"),
        ("https://0x7f000001/in", "invalid_host"),
        ("https://0177.0.0.1/in", "invalid_host"),
    ],
)
def test_a_bad_url_is_refused_naming_the_field(webhooks, url, code):
    assert refused(webhooks, url=url) == [("url", code)]


def test_a_url_of_2048_characters_is_accepted(webhooks):
    url = "https://example.com/" + "a" * 2028

    assert len(url) == 2048
    assert api.endpoint_create(url=url, events=["*"]).url == url


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com",
        "https://hooks.example.com:8443/in?a=1&b=2",
        "http://localhost:8000/webhooks",  # allowed in development and tests (settings)
        "http://127.0.0.1:9000/in",
        "https://[2001:db8::1]/in",
        "https://xn--bcher-kva.example/in",
    ],
)
def test_good_urls_are_accepted_as_given(webhooks, url):
    assert api.endpoint_create(url=url, events=["*"]).url == url


def test_scheme_and_host_are_kept_in_lower_case_the_rest_as_given(webhooks):
    created = api.endpoint_create(url="HTTPS://Hooks.Example.COM:8443/In?Q=A", events=["*"])

    assert created.url == "https://hooks.example.com:8443/In?Q=A"


def test_https_is_required_when_plain_http_is_not_allowed(webhooks, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    assert refused(webhooks, url="http://hooks.example.com/in") == [("url", "https_required")]
    assert api.endpoint_create(url=GOOD_URL, events=["*"]).url == GOOD_URL


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/in",
        "https://10.1.2.3/in",
        "https://172.16.0.1/in",
        "https://192.168.1.1/in",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://100.64.0.1/in",  # carrier-grade NAT
        "https://0.0.0.0/in",
        "https://224.0.0.1/in",
        "https://[::1]/in",
        "https://[fe80::1]/in",
        "https://[fd00::1]/in",
        "https://[::ffff:127.0.0.1]/in",
        "https://localhost/in",
        "https://api.localhost./in",
    ],
)
def test_private_and_loopback_hosts_are_refused_when_not_allowed(webhooks, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False

    assert refused(webhooks, url=url) == [("url", "private_host")]


def test_public_hosts_pass_the_private_host_check(webhooks, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = False

    for url in ("https://8.8.8.8/in", "https://[2606:4700::1111]/in", "https://hooks.example.com/in"):
        assert api.endpoint_create(url=url, events=["*"]).url == url


@pytest.mark.parametrize(
    ("events", "errors"),
    [
        (None, [("events", "required")]),
        ([], [("events", "required")]),
        ("wallet.created", [("events", "invalid")]),
        ({"wallet.created": True}, [("events", "invalid")]),
        (["wallet.created"] * 101, [("events", "too_many")]),
        (["wallet.created", "qr.generated", "wallet.nope"], [("events[2]", "unknown_event_type")]),
        (["nope.*"], [("events[0]", "unknown_event_type")]),
        (["wallet"], [("events[0]", "unknown_event_type")]),
        (["Wallet.Created"], [("events[0]", "unknown_event_type")]),
        (["wallet.created "], [("events[0]", "unknown_event_type")]),
        (["wal.*"], [("events[0]", "unknown_event_type")]),  # a prefix ends at a dot
        (["*.*"], [("events[0]", "unknown_event_type")]),
        ([".*"], [("events[0]", "unknown_event_type")]),
        (["wallet.**"], [("events[0]", "unknown_event_type")]),
        (["wallet.created.*"], [("events[0]", "unknown_event_type")]),
        (["**"], [("events[0]", "unknown_event_type")]),
        ([""], [("events[0]", "unknown_event_type")]),
        ([7, "wallet.created", None], [("events[0]", "invalid"), ("events[2]", "invalid")]),
    ],
)
def test_bad_event_patterns_are_refused_naming_the_item(webhooks, events, errors):
    assert refused(webhooks, events=events) == errors


def test_a_hundred_patterns_are_accepted(webhooks):
    assert api.endpoint_create(url=GOOD_URL, events=["wallet.created"] * 100).events == ("wallet.created",)


@pytest.mark.parametrize(("description", "code"), [("x" * 501, "too_long"), ("two\nlines", "invalid"), (5, "invalid")])
def test_a_bad_description_is_refused(webhooks, description, code):
    assert refused(webhooks, description=description) == [("description", code)]


def test_endpoints_for_event_needs_an_event_name(webhooks):
    for bad in ("", "wallet", "wallet.*", None, "Wallet.Created"):
        with pytest.raises(InvalidInput) as caught:
            api.endpoints_for_event(event_type=bad)
        assert caught.value.errors[0].field == "event_type"


def test_list_limit_and_cursor_are_checked(webhooks):
    for limit in (0, 101, "10", True):
        with pytest.raises(InvalidInput) as caught:
            api.endpoint_list(limit=limit)
        assert caught.value.errors[0].field == "limit"
    with pytest.raises(InvalidInput) as caught:
        api.endpoint_list(cursor="not-a-cursor")
    assert caught.value.code == "invalid_cursor"


def test_disable_needs_a_reason(webhooks):
    created = api.endpoint_create(url=GOOD_URL, events=["*"])
    before = written(webhooks)

    with pytest.raises(InvalidInput) as caught:
        api.endpoint_disable(endpoint_id=created.id, reason=" ")

    assert caught.value.errors[0].field == "reason"
    assert written(webhooks) == before
