"""Unicode edge cases in the free-text fields the API stores and shows again: customer names and
external ids, webhook endpoint descriptions, API key names, QR merchant names.

Each string is either accepted — 201, and read back exactly as sent (a canonically equivalent
spelling counts as the same text: Unicode defines NFC and NFD of a string as one text) — or refused
with a 400 naming the field. Text no database column can hold (NUL, an unpaired surrogate) is
refused by the JSON parser as `parse_error` (finfactory/api/parsers.py). Never a 500; a refusal
writes nothing.
"""

from __future__ import annotations

import json
import unicodedata
import uuid

import pytest

from .conftest import fields_named, refusal, send

STRINGS = {
    "NUL": "Ana\x00Reyes",
    "unpaired high surrogate": "Ana\ud800",
    "unpaired low surrogate": "\udfffAna",
    "right-to-left override": "Ana\u202eseyeR",
    "zero-width joiner family": "Ana \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "zero-width space": "An\u200ba",
    "byte order mark": "\ufeffAna",
    "emoji": "Ana \U0001f600",
    "10,000 characters": "A" * 10_000,
    "stacked combining marks": "Z\u0351\u0352\u0353\u0354\u0355a\u0356\u0357\u0358",
    "NFC": "Jos\u00e9",
    "NFD": "Jose\u0301",
    "Cyrillic look-alike": "\u0410na",
    "astral CJK": "\U00020bb7\u91ce\u5bb6",
    "Arabic": "\u0645\u062d\u0645\u062f",
    "line separator": "Ana\u2028Reyes",
    "newline": "Ana\nReyes",
    "tab": "Ana\tReyes",
    "private use": "Ana\ue000",
    "noncharacter": "Ana\uffff",
    "HTML": "<b>Ana</b>",
}
# What the JSON parser refuses outright (no column can store it).
UNSTORABLE = {"NUL", "unpaired high surrogate", "unpaired low surrogate"}


def _customer(field: str, text: str) -> dict:
    body = {"first_name": "Ana", "last_name": "Reyes", "email": f"ana-{uuid.uuid4().hex[:8]}@example.org"}
    return {**body, field: text}


# field label → (create path, body with the text, path to read it back, how to find it in the answer)
FIELDS = {
    "customer first_name": (
        "/v1/customers",
        lambda world, text: _customer("first_name", text),
        lambda created: f"/v1/customers/{created['id']}",
        lambda shown: shown["first_name"],
    ),
    "customer external_id": (
        "/v1/customers",
        lambda world, text: _customer("external_id", text),
        lambda created: f"/v1/customers/{created['id']}",
        lambda shown: shown["external_id"],
    ),
    "webhook endpoint description": (
        "/v1/webhook-endpoints",
        lambda world, text: {"url": "https://hooks.example.com/u", "events": ["*"], "description": text},
        lambda created: f"/v1/webhook-endpoints/{created['id']}",
        lambda shown: shown["description"],
    ),
    "API key name": (
        "/v1/api-keys",
        lambda world, text: {"name": text, "scopes": ["wallets:read"]},
        lambda created: f"/v1/api-keys/{created['id']}",
        lambda shown: shown["name"],
    ),
    "QR merchant_name": (
        "/v1/qr-codes",
        lambda world, text: {"wallet_id": world.a.ids["wallet_id"], "merchant_name": text, "merchant_city": "Makati"},
        lambda created: f"/v1/qr-codes/{created['id']}",
        lambda shown: None,  # read back below, from the decoded payload
    ),
}
FIELD_NAMES = {
    "customer first_name": "first_name",
    "customer external_id": "external_id",
    "webhook endpoint description": "description",
    "API key name": "name",
    "QR merchant_name": "merchant_name",
}


def _same_text(stored: str, sent: str) -> bool:
    return stored == sent or unicodedata.normalize("NFC", stored) == unicodedata.normalize("NFC", sent)


def _raw(body: dict) -> bytes:
    # ensure_ascii escapes every non-ASCII character (\ud800 stays a lone surrogate escape, as a
    # hostile client would send it: a str holding one cannot be encoded as UTF-8 at all).
    return json.dumps(body, ensure_ascii=True).encode()


@pytest.mark.parametrize("label", STRINGS)
@pytest.mark.parametrize("field", FIELDS)
def test_a_unicode_edge_case_is_stored_exactly_or_refused_naming_the_field(world, field, label):
    create, body_of, read, shown_of = FIELDS[field]
    text = STRINGS[label]
    client = world.client()

    before = world.watch.snapshot()
    response = send(client, "POST", create, raw=_raw(body_of(world, text)), idempotency_key=None)

    assert response.status_code in (201, 400), (response.status_code, response.content[:600])
    answer = json.loads(response.content)  # whatever it holds, the answer is JSON
    if response.status_code == 400:
        if label in UNSTORABLE:
            refusal(response, 400, "parse_error")
        else:
            assert FIELD_NAMES[field] in fields_named(refusal(response, 400, "validation_error")), answer
        assert world.watch.changes(before, caller="A") == {}, "a refused request wrote"
        return
    assert label not in UNSTORABLE, f"{label} was stored: {answer}"
    shown = send(client, "GET", read(answer)).json()
    if field == "QR merchant_name":
        decoded = send(client, "POST", "/v1/qr-codes/decode", body={"payload": shown["payload"]}).json()
        stored = decoded["merchant_name"]
    else:
        assert shown_of(answer) == shown_of(shown), "the create answer and the read disagree"
        stored = shown_of(shown)
    assert _same_text(stored, text), (stored, text)


def test_an_unknown_field_with_bidi_controls_in_its_name_is_named_as_sent(world):
    name = "first_name\u202e\u200d"
    body = {"first_name": "Ana", "last_name": "Reyes", "email": "ana@example.org", name: "x"}

    with world.watch.unchanged():
        response = send(world.client(), "POST", "/v1/customers", raw=_raw(body), idempotency_key=None)

    assert fields_named(refusal(response, 400, "validation_error")) == [name]
