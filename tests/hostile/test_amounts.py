"""Hostile amounts and currencies on every endpoint that takes an amount: cash-ins, cash-outs,
transfers, QR payments and QR codes.

API.md: "`amount` is an integer in the currency's minor unit, `currency` an ISO 4217 code in
capitals; amounts must be > 0". Anything else is a 4xx naming `amount` or `currency` with a stable
code, and leaves no journal entry, no operation, no outbox event — nothing at all but the caller's
idempotency cache, which must not stand in the way of the corrected request.
"""

from __future__ import annotations

import uuid

import pytest

from .conftest import fields_named, refusal, send

# The valid request each hostile one is derived from (the caller's own wallets and QR code).
VALID = {
    "cash-ins": lambda a: {"wallet_id": a["wallet_id"], "amount": 1_000, "currency": "PHP"},
    "cash-outs": lambda a: {"wallet_id": a["wallet_id"], "amount": 1_000, "currency": "PHP"},
    "transfers": lambda a: {
        "source_wallet_id": a["wallet_id"],
        "destination_wallet_id": a["payee_wallet_id"],
        "amount": 1_000,
        "currency": "PHP",
    },
    "qr-payments": lambda a: {"wallet_id": a["wallet_id"], "payload": a["static_payload"], "amount": 1_000},
    # The seeded merchant's own name and city: only the amount differs from its static code.
    "qr-codes": lambda a: {
        "wallet_id": a["payee_wallet_id"],
        "merchant_name": "Hostile Shop",
        "merchant_city": "Makati",
        "amount": 1_000,
    },
}
WITH_CURRENCY = ["cash-ins", "cash-outs", "transfers"]
# `amount` may be left out (null) of a QR code (then static) and of a dynamic code's payment.
AMOUNT_OPTIONAL = {"qr-codes"}

BAD_AMOUNTS = {
    "zero": 0,
    "negative": -1,
    "2**63": 2**63,
    "2**64": 2**64,
    "10**30": 10**30,
    "past the platform maximum": 10**15 + 1,
    "1e308": 1e308,
    "a string": "100",
    "an empty string": "",
    "a float with a fraction": 100.5,
    "a float without one": 100.0,
    "an exponent": 1e3,
    "true": True,
    "false": False,
    "null": None,
    "a list": [100],
    "an object": {"value": 100},
}
BAD_CURRENCIES = {
    "XXX (no minor unit)": "XXX",
    "XAU (a metal)": "XAU",
    "ZZZ (no such code)": "ZZZ",
    "lower case": "php",
    "mixed case": "Php",
    "two letters": "PH",
    "four letters": "PHPP",
    "empty": "",
    "padded with a space": " PHP",
    "a trailing newline": "PHP\n",
    "the ISO number": 608,
    "the ISO number as text": "608",
    "null": None,
    "a list": ["PHP"],
    "an object": {"code": "PHP"},
    "true": True,
    "one the product does not offer": "USD",
    "Cyrillic look-alike": "\u0420\u041d\u0420",
}


def _post(world, path: str, body: dict, **kwargs):
    return send(world.client(), "POST", f"/v1/{path}", body=body, **kwargs)


@pytest.mark.parametrize("path", VALID)
def test_the_valid_request_each_hostile_one_comes_from_is_accepted(world, path):
    response = _post(world, path, VALID[path](world.a.ids))

    assert response.status_code == 201, response.content[:600]
    assert response.json()["amount"] == 1_000


def _amount_cases():
    for path in VALID:
        for label, value in BAD_AMOUNTS.items():
            if value is None and path in AMOUNT_OPTIONAL:
                continue
            yield pytest.param(path, value, id=f"{path}-{label}")


@pytest.mark.parametrize(("path", "amount"), list(_amount_cases()))
def test_a_hostile_amount_is_refused_naming_amount_and_nothing_is_written(world, path, amount):
    body = {**VALID[path](world.a.ids), "amount": amount}

    with world.watch.unchanged():
        response = _post(world, path, body)

    problem = refusal(response, {400, 422})
    assert "amount" in fields_named(problem), problem


@pytest.mark.parametrize("path", WITH_CURRENCY)
@pytest.mark.parametrize("currency", BAD_CURRENCIES.values(), ids=BAD_CURRENCIES.keys())
def test_a_hostile_currency_is_refused_naming_currency_and_nothing_is_written(world, path, currency):
    body = {**VALID[path](world.a.ids), "currency": currency}

    with world.watch.unchanged():
        response = _post(world, path, body)

    problem = refusal(response, {400, 422})
    assert "currency" in fields_named(problem), problem


@pytest.mark.parametrize("path", WITH_CURRENCY)
def test_a_missing_currency_or_amount_is_named(world, path):
    body = VALID[path](world.a.ids)
    del body["currency"], body["amount"]

    with world.watch.unchanged():
        response = _post(world, path, body)

    assert {"amount", "currency"} <= set(fields_named(refusal(response, 400, "validation_error")))


@pytest.mark.parametrize(
    ("path", "field"), [(path, "amount") for path in VALID] + [(path, "currency") for path in WITH_CURRENCY]
)
def test_a_refused_request_leaves_no_idempotency_record_that_blocks_the_corrected_one(world, path, field):
    valid = VALID[path](world.a.ids)
    key = f"hostile-{uuid.uuid4().hex}"

    with world.watch.unchanged():
        refused = _post(world, path, {**valid, field: str(valid[field]).lower() + "x"}, idempotency_key=key)
    corrected = _post(world, path, valid, idempotency_key=key)

    assert field in fields_named(refusal(refused, 400, "validation_error"))
    assert corrected.status_code == 201, corrected.content[:600]
