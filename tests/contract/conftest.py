"""Fixtures of the API contract test: a seeded tenant inside the test's transaction, the Django
WSGI application called in-process, and the OpenAPI document it serves, loaded by schemathesis."""

import uuid
from dataclasses import dataclass

import pytest
import redis
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection

from contexts.identity import api as identity_api
from contexts.identity import kyc as identity_kyc
from contexts.ledger import api as ledger_api
from contexts.products import api as products_api
from contexts.products.workflows import wallet_account
from finfactory.apikeys.services import api_key_create
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant

# Fuzzing budget per operation (Hypothesis examples of the fuzzing phase; the examples and the
# positive coverage phases add a few deterministic cases each).
MAX_EXAMPLES = 10
# How often a generated id (path, query or body) is one of the seeded objects' (and a currency
# "PHP"): the rest stay random (404s, 400s), these reach the handlers' happy paths.
SEEDED_PROBABILITY = 0.5
# How often any generated string is one a PostgreSQL text column refuses (NUL): the API must
# answer 4xx, never let the database error out.
NASTY_PROBABILITY = 0.1
NASTY_STRINGS = ["\x00", "wal_\x00"]
# Body fields drawn from the seeded values (field: seeded name); paths and queries use the names.
BODY_FIELDS = {
    "customer_id": "customer_id",
    "wallet_id": "wallet_id",
    "source_wallet_id": "wallet_id",
    "destination_wallet_id": "wallet_id",
    "account_id": "account_id",
    "debit_account_id": "account_id",
    "credit_account_id": "account_id",
    "payload": "payload",
    "currency": "currency",
}


@dataclass(frozen=True)
class ApiKeys:
    tenant: object
    secret: str
    platform_secret: str


@pytest.fixture
def in_process_requests():
    """Requests served in-process share the test's connection and transaction: Django must not
    close it at the start and end of each request (what its own test client does as well)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def isolated_queues(settings):
    """Tasks the API sends go to a queue no worker reads, deleted afterwards. Rate limits are
    lifted: a 429 conforms to the schema, but would make the run depend on the machine's speed."""
    name = f"contract-unconsumed-{uuid.uuid4().hex[:8]}"
    for setting in ("PRODUCTS_QUEUE", "QRPH_QUEUE", "IDENTITY_QUEUE", "OUTBOX_QUEUE"):
        setattr(settings, setting, name)
    settings.API_RATE_LIMITS = {"default": "1000000/s"}
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(name)
    client.close()


def _verified_customer(n: int) -> str:
    created = identity_api.customer_create(
        first_name="Contract", last_name=f"Customer{n}", email=f"contract{n}-{uuid.uuid4().hex[:6]}@example.org"
    )
    status = identity_api.kyc_submit(
        customer_id=created.id, id_type="passport", id_number=f"P{uuid.uuid4().hex[:9]}", level="basic"
    )
    identity_kyc.kyc_verify(kyc_id=status.kyc_id, level="basic")
    drain()
    return created.id


def _seed(tenant) -> dict[str, list]:
    """An object of each kind the API names by id: two verified customers with funded wallets,
    a transfer between them, a QR code, a ledger hold, and the events all of it emitted."""
    with in_tenant(tenant), acting_as("system:contract-test", request_id="req_contract_seed"):
        payer_customer, payee_customer = _verified_customer(1), _verified_customer(2)
        unverified = identity_api.customer_create(first_name="New", last_name="Customer", email="new@example.org").id
        payer = products_api.wallet_open(customer_id=payer_customer, currency="PHP")
        payee = products_api.wallet_open(customer_id=payee_customer, currency="PHP")
        cash_in = products_api.cash_in(wallet_id=payer.id, amount=500_000, currency="PHP", reference="seed-cash-in")
        transfer = products_api.transfer(
            source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=10_000, currency="PHP",
            reference="seed-transfer",
        )  # fmt: skip
        qr_code = products_api.qr_code_create(wallet_id=payee.id, merchant_name="Contract Shop", merchant_city="Makati")
        accounts = [wallet_account(payer.id), wallet_account(payee.id)]
        in_transit = ledger_api.system_account(code="payouts_in_transit", currency="PHP").id
        hold = ledger_api.hold_create(
            account_id=accounts[0], credit_account_id=in_transit, amount=1_000, currency="PHP", external_ref="seed-hold"
        )
        drain()
        entries = [entry for entry in (cash_in.transaction_id, transfer.transaction_id) if entry]
        return {
            "customer_id": [payer_customer, payee_customer, unverified],
            "wallet_id": [payer.id, payee.id],
            "operation_id": [cash_in.id, transfer.id],
            "transaction_id": entries,
            "entry_id": entries,
            "qr_code_id": [qr_code.id],
            "payload": [qr_code.payload],
            "account_id": [*accounts, in_transit],
            "hold_id": [hold.id],
            "event_id": list(OutboxEvent.objects.values_list("event_id", flat=True)[:5]),
        }


def _config(secret: str, seeded: dict[str, list]) -> schemathesis.Config:
    seeded = {**seeded, "currency": ["PHP"]}
    parameters = {f"{location}.{name}": name for name in seeded for location in ("path", "query")}
    parameters |= {f"body.{field}": name for field, name in BODY_FIELDS.items()}
    return schemathesis.Config.from_dict(
        {
            "seed": 20260101,
            # Generation time depends on the machine: never fail the run for it.
            "suppress-health-check": ["too_slow"],
            "headers": {"Authorization": f"Bearer {secret}"},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "dictionaries": {"string": {"dictionary": "nasty", "probability": NASTY_PROBABILITY}},
            },
            "phases": {
                # Boundary values of every parameter, valid ones only: the fuzzing phase sends
                # invalid data too, within its budget (the negative coverage phase alone is ~1400
                # more requests).
                "coverage": {"generation": {"mode": "positive"}},
                "stateful": {"enabled": False},
            },
            "dictionaries": {
                "nasty": {"values": NASTY_STRINGS},
                **{name: {"values": values} for name, values in seeded.items()},
            },
            "parameters": {
                key: {"dictionary": name, "probability": SEEDED_PROBABILITY} for key, name in parameters.items()
            },
        }
    )


@pytest.fixture
def api_keys(db) -> ApiKeys:
    """A tenant provisioned for the test (in its transaction), its key with every tenant scope, and
    a platform key."""
    provisioned = provision_tenant("contract")
    platform_key = api_key_create(tenant=None, name="contract-platform")
    connection.set_schema_to_public()
    return ApiKeys(tenant=provisioned.tenant, secret=provisioned.api_key.secret, platform_secret=platform_key.secret)


@pytest.fixture
def api_schema(request, isolated_queues, in_process_requests, api_keys):
    """The OpenAPI document served at /v1/schema, loaded from the app, calling it with the tenant's
    key and, half of the time, a seeded object's id."""
    # schemathesis 4.32.5 names each operation's subtest by rewriting the item's `_nodeid`, an
    # attribute pytest 9.2 no longer has (the node id is `_id`): give it one to read and rewrite.
    request.node._nodeid = request.node.nodeid
    seeded = {name: values for name, values in _seed(api_keys.tenant).items() if values}
    connection.set_schema_to_public()
    # What the fuzzer may revoke or suspend: a second key of the tenant, and a second tenant.
    seeded["key_id"] = [api_key_create(tenant=api_keys.tenant, name="contract-spare").key.public_id]
    seeded["slug"] = [provision_tenant("contract-spare").tenant.slug]
    connection.set_schema_to_public()
    yield schemathesis.openapi.from_wsgi("/v1/schema", get_wsgi_application(), config=_config(api_keys.secret, seeded))
    connection.set_schema_to_public()
