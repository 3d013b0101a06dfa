"""Fixtures of the hostile-input suite: two tenants, A (the caller) and B (the victim), provisioned
once for the package and rolled back after it, each with one of every resource the API names by
id; the API's endpoints, read from the URL resolver; and a watch over every table a request could
touch, so that each refusal can prove that NOTHING was written — in A, in B or in public.

Provisioning is the expensive part (about a second a tenant), so it happens once: the package's
data lives in an outer transaction that is never committed, and every test runs in a savepoint
of it (pytest-django's `db`), rolled back after the test.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from contexts.identity import api as identity_api
from contexts.identity import kyc as identity_kyc
from contexts.ledger import api as ledger_api
from contexts.products import api as products_api
from contexts.products.workflows import wallet_account
from contexts.webhooks import api as webhooks_api
from finfactory.apikeys.permissions import required_scope
from finfactory.apikeys.scopes import TENANT_SCOPES
from finfactory.apikeys.services import api_key_create
from finfactory.outbox.drain import drain
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant
from tests.helpers import api_client

ROUTE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
# Tasks the seeding and the requests queue go where no worker reads (emptied afterwards): another
# session's worker on the default test queue must not get tasks naming this session's schemas.
QUEUE_SETTINGS = (
    "OUTBOX_QUEUE",
    "PRODUCTS_QUEUE",
    "QRPH_QUEUE",
    "IDENTITY_QUEUE",
    "WEBHOOKS_QUEUE",
    "NOTIFICATIONS_QUEUE",
)

# Tables whose rows a refused request may legitimately add, by (whose schema, table):
# the caller's own idempotency replay cache. API.md: a request with an Idempotency-Key is
# answered again, status and body, on a replay — its rows are the answer, not an effect. What
# such a record must not do (block the corrected request) is tested in test_amounts.py.
CALLER_MAY_WRITE = {"idempotency_idempotencyrecord"}


# --- the API's endpoints, from the URL resolver -------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One method of one route of the API (`config.urls_api`), e.g. POST v1/wallets/<wallet_id>/close."""

    route: str
    method: str
    name: str
    params: tuple[str, ...]
    view: type
    initkwargs: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def scope(self) -> str | None:
        return required_scope(self.view, self.method)

    @property
    def public(self) -> bool:
        """Served without authentication (the OpenAPI document and its viewer)."""
        return self.initkwargs.get("authentication_classes") == []

    def path(self, **values: str) -> str:
        from urllib.parse import quote

        path = "/" + self.route
        for name in self.params:
            path = path.replace(f"<str:{name}>", quote(values[name], safe=""))
        return path

    def __str__(self) -> str:
        return f"{self.method} /{self.route}"


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, str, object]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.name or "", pattern.callback


def api_endpoints() -> list[Endpoint]:
    """Every (route, method) the API serves — from the resolver, so a new route shows up here."""
    found = []
    for route, name, callback in _walk(get_resolver("config.urls_api").url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        assert view is not None, f"{route}: not a class-based view"
        converters = ROUTE_PARAMETER.findall(route)
        assert all(kind == "str" for kind, _ in converters), f"{route}: only <str:…> parameters are known here"
        params = tuple(name for _, name in converters)
        methods = [m.upper() for m in view.http_method_names if m not in ("options", "head") and hasattr(view, m)]
        initkwargs = getattr(callback, "initkwargs", {})
        found += [Endpoint(route, method, name, params, view, initkwargs) for method in sorted(methods)]
    return found


# Where a path parameter's id comes from (the seeded resources of `_seed`, in either tenant);
# `operation_id` names a different kind of operation under each route.
PATH_IDS = {
    "customer_id": "customer_id",
    "wallet_id": "wallet_id",
    "qr_code_id": "qr_code_id",
    "transaction_id": "transaction_id",
    "endpoint_id": "endpoint_id",
    "delivery_id": "delivery_id",
    "event_id": "event_id",
    "key_id": "key_id",
    "account_id": "account_id",
    "entry_id": "entry_id",
    "hold_id": "hold_id",
    "slug": "slug",
}
OPERATION_IDS = {
    "cash-in": "cash_in_id",
    "cash-out": "cash_out_id",
    "transfer": "transfer_id",
    "qr-payment": "qr_payment_id",
}


def path_values(endpoint: Endpoint, ids: dict[str, str]) -> dict[str, str]:
    """The endpoint's path parameters filled with the ids of one tenant's seeded resources."""
    values = {}
    for param in endpoint.params:
        source = OPERATION_IDS.get(endpoint.name) if param == "operation_id" else PATH_IDS.get(param)
        assert source is not None, f"{endpoint}: the suite does not know whose id {param} is"
        values[param] = ids[source]
    return values


def unknown_ids(ids: dict[str, str]) -> dict[str, str]:
    """Ids of the right shape (`wal_` + 26 characters) that name nothing."""
    return {
        name: (value.split("_")[0] + "_" + "0" * 26 if "_" in value else "no-such-" + name)
        for name, value in ids.items()
    }


# --- nothing written ------------------------------------------------------------------------------


class WriteWatch:
    """What a request wrote, in every table of some schemas (public, A's, B's).

    Per request it reads PostgreSQL's statistics of the current transaction (those of
    `pg_stat_xact_user_tables`: rows inserted, updated and deleted by this connection, counted
    even in savepoints rolled back since): a table none of whose counters moved was not written.
    A table whose counters moved was written if a row version from after the snapshot survives
    (its xmin is a transaction id assigned since: an INSERT or an UPDATE) or if a DELETE was
    attempted; a table gone from pg_class was dropped. `counts()` — `count(*)` of every table —
    catches what another connection committed meanwhile (see the module-scoped check below).
    """

    def __init__(self, schemas: dict[str, str]):
        self.schemas = schemas  # role ("public", "A", "B") → schema name
        role = {schema: name for name, schema in schemas.items()}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') ORDER BY 2, 3",
                [list(schemas.values())],
            )
            self.tables = {oid: (role[schema], schema, table) for oid, schema, table in cursor.fetchall()}
        relids = "'{" + ",".join(str(relid) for relid in self.tables) + "}'::oid[]"
        # The counters of the statistics view, called directly: one cheap function call per table
        # (a dropped table has no pg_class row any more, so it is missing from the answer).
        self._activity_sql = (
            "SELECT SINCE, c.oid::bigint, pg_stat_get_xact_tuples_inserted(c.oid),"
            " pg_stat_get_xact_tuples_updated(c.oid), pg_stat_get_xact_tuples_deleted(c.oid)"
            f" FROM pg_class c WHERE c.oid = ANY({relids})"
        )
        self._snapshot_sql = self._activity_sql.replace(
            "SINCE", "mod(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, 4294967296)", 1
        )
        self._activity_sql = self._activity_sql.replace("SINCE", "0", 1)
        self._counts_sql = "SELECT ARRAY[{}]".format(
            ", ".join(f'(SELECT count(*) FROM "{schema}"."{table}")' for _, schema, table in self.tables.values())
        )

    def snapshot(self) -> tuple[int, dict[int, tuple[int, int, int]]]:
        """The next transaction id to be assigned, and each table's write counters so far."""
        since, activity = self._read(with_since=True)
        return since, activity

    def _activity(self) -> dict[int, tuple[int, int, int]]:
        return self._read(with_since=False)[1]

    def _read(self, *, with_since: bool):
        with connection.cursor() as cursor:
            cursor.execute(self._activity_sql if not with_since else self._snapshot_sql)
            rows = cursor.fetchall()
        activity = {relid: (ins, upd, dele) for _, relid, ins, upd, dele in rows}
        return (rows[0][0] if rows else None), activity

    def changes(self, before, *, caller: str | None = None) -> dict[str, str]:
        since, activity = before
        now = self._activity()
        changed = {f"{role}.{table}": "dropped" for relid, (role, _, table) in self.tables.items() if relid not in now}
        for relid, counters in now.items():
            role, schema, table = self.tables[relid]
            old = activity.get(relid, (0, 0, 0))
            if counters == old or (role == caller and table in CALLER_MAY_WRITE):
                continue
            deleted = counters[2] - old[2]
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE xmin::text::bigint >= %s', [since])
                (written,) = cursor.fetchone()
            if written or deleted:
                changed[f"{role}.{table}"] = f"{written} rows inserted or updated, {deleted} deleted"
        return changed

    def counts(self) -> dict[str, int]:
        with connection.cursor() as cursor:
            cursor.execute(self._counts_sql)
            (counts,) = cursor.fetchone()
        return {f"{role}.{table}": n for (role, _, table), n in zip(self.tables.values(), counts, strict=True)}

    @contextmanager
    def unchanged(self, *, caller: str | None = "A") -> Iterator[None]:
        """Assert that the block wrote nothing anywhere (the caller's idempotency cache aside)."""
        before = self.snapshot()
        yield
        changed = self.changes(before, caller=caller)
        assert not changed, f"a refused request wrote: {changed}"


# --- the two tenants ------------------------------------------------------------------------------


@dataclass
class Tenant:
    role: str
    tenant: object
    secret: str
    ids: dict[str, str] = field(default_factory=dict)
    # scope → a key of the tenant with every tenant scope but that one
    without: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.tenant.schema_name


@dataclass
class World:
    a: Tenant
    b: Tenant
    watch: WriteWatch

    clients: dict[str, object] = field(default_factory=dict)

    def client(self, secret: str | None = None):
        """A client presenting `secret` (A's key by default; "" for none). Kept per key: a new
        client builds Django's middleware chain again, which costs more than a request."""
        secret = self.a.secret if secret is None else secret
        if secret not in self.clients:
            self.clients[secret] = api_client(secret)
        return self.clients[secret]


def _verified_customer(label: str, external_id: str) -> str:
    created = identity_api.customer_create(
        first_name="Hostile",
        last_name=label,
        email=f"{label.lower()}-{uuid.uuid4().hex[:6]}@example.org",
        external_id=external_id,
    )
    status = identity_api.kyc_submit(
        customer_id=created.id, id_type="passport", id_number=f"P{uuid.uuid4().hex[:9].upper()}", level="basic"
    )
    identity_kyc.kyc_verify(kyc_id=status.kyc_id, level="basic")
    drain()
    return created.id


def _seed(tenant, label: str) -> dict[str, str]:
    """One of each resource the API names by id, in `tenant`."""
    with in_tenant(tenant), acting_as(f"system:hostile-{label}", request_id=f"req_hostile_{label}"):
        payer_customer = _verified_customer(f"{label}Payer", f"ext-{label}-{uuid.uuid4().hex[:8]}")
        payee_customer = _verified_customer(f"{label}Payee", f"ext-{label}-{uuid.uuid4().hex[:8]}")
        payer = products_api.wallet_open(customer_id=payer_customer, currency="PHP")
        payee = products_api.wallet_open(customer_id=payee_customer, currency="PHP")
        cash_in = products_api.cash_in(wallet_id=payer.id, amount=500_000, currency="PHP", reference=f"{label}-cin")
        transfer = products_api.transfer(
            source_wallet_id=payer.id,
            destination_wallet_id=payee.id,
            amount=10_000,
            currency="PHP",
            reference=f"{label}-trf",
        )
        cash_out = products_api.cash_out(wallet_id=payer.id, amount=5_000, currency="PHP", reference=f"{label}-cout")
        static_qr = products_api.qr_code_create(
            wallet_id=payee.id, merchant_name="Hostile Shop", merchant_city="Makati"
        )
        dynamic_qr = products_api.qr_code_create(
            wallet_id=payee.id, merchant_name="Hostile Shop", merchant_city="Makati", amount=1_234
        )
        qr_payment = products_api.qr_payment(wallet_id=payer.id, payload=dynamic_qr.payload, reference=f"{label}-qrp")
        webhook = webhooks_api.endpoint_create(url=f"https://hooks.example.com/{label}", events=["*"])
        webhooks_api.endpoint_create(url=f"https://hooks.example.com/{label}/2", events=["wallet.*"])
        key = api_key_create(tenant=tenant, name=f"spare-{label}")
        payer_account = wallet_account(payer.id)
        in_transit = ledger_api.system_account(code="payouts_in_transit", currency="PHP").id
        hold = ledger_api.hold_create(
            account_id=payer_account,
            credit_account_id=in_transit,
            amount=1_000,
            currency="PHP",
            external_ref=f"{label}-hold",
        )
        transaction_id = products_api.transactions_list(wallet_id=payer.id, limit=1).items[0].id
        drain()
        event = OutboxEvent.objects.order_by("-id").first()
        deliveries = webhooks_api.delivery_list(endpoint_id=webhook.id).items
        assert deliveries, "the events since the endpoint was created are delivered to it"
        return {
            "customer_id": payer_customer,
            "payee_customer_id": payee_customer,
            "external_id": identity_api.customer_get(customer_id=payer_customer).external_id,
            "wallet_id": payer.id,
            "payee_wallet_id": payee.id,
            "cash_in_id": cash_in.id,
            "cash_out_id": cash_out.id,
            "transfer_id": transfer.id,
            "qr_code_id": static_qr.id,
            "static_payload": static_qr.payload,
            "dynamic_qr_code_id": dynamic_qr.id,
            "qr_payment_id": qr_payment.id,
            "transaction_id": transaction_id,
            "entry_id": cash_in.transaction_id,
            "event_id": event.event_id,
            "endpoint_id": webhook.id,
            "delivery_id": deliveries[0].id,
            "key_id": key.key.public_id,
            "account_id": payer_account,
            "payee_account_id": wallet_account(payee.id),
            "hold_id": hold.id,
            "slug": tenant.slug,
        }


LISTS = {
    "api-keys": "/v1/api-keys",
    "events": "/v1/events",
    "customers": "/v1/customers",
    "wallets": "/v1/wallets",
    "transactions": "/v1/transactions",
    "webhook-endpoints": "/v1/webhook-endpoints",
    "ledger-accounts": "/internal/ledger/accounts",
}


def _cursors(client) -> dict[str, str]:
    """The `next_cursor` of the first one-item page of each list, as the tenant was given it."""
    cursors = {}
    for name, path in LISTS.items():
        response = client.get(path, {"limit": 1})
        assert response.status_code == 200, (path, response.content[:300])
        cursors[f"cursor:{name}"] = response.json()["next_cursor"]
        assert cursors[f"cursor:{name}"], f"{path}: seed two items so that there is a second page"
    connection.set_schema_to_public()
    return cursors


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker) -> Iterator[World]:
    queue = f"hostile-unconsumed-{uuid.uuid4().hex[:8]}"
    overrides = override_settings(API_RATE_LIMITS={"default": "1000000/s"}, **dict.fromkeys(QUEUE_SETTINGS, queue))
    overrides.enable()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            tenants = []
            for role in ("A", "B"):
                provisioned = provision_tenant(f"hostile{role.lower()}")
                connection.set_schema_to_public()
                tenants.append(Tenant(role, provisioned.tenant, provisioned.api_key.secret))
            a, b = tenants
            for party in tenants:
                party.ids = _seed(party.tenant, party.role)
                party.ids |= _cursors(api_client(party.secret))
            a.without = {
                scope: api_key_create(
                    tenant=a.tenant, name=f"without {scope}", scopes=sorted(set(TENANT_SCOPES) - {scope})
                ).secret
                for scope in TENANT_SCOPES
            }
            connection.set_schema_to_public()
            watch = WriteWatch({"public": "public", "A": a.schema, "B": b.schema})
            yield World(a=a, b=b, watch=watch)
            connection.set_schema_to_public()
            transaction.set_rollback(True)
    finally:
        overrides.disable()
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(queue)
        client.close()


@pytest.fixture(autouse=True)
def _savepoint_per_test(db, world) -> Iterator[None]:
    """Each test in a savepoint of the package's transaction; the connection back in public after."""
    yield
    connection.set_schema_to_public()


@pytest.fixture(scope="module", autouse=True)
def _nothing_committed_by_another_connection(world, django_db_blocker) -> Iterator[None]:
    """Tests roll back; a write through another connection would not: the row counts of every
    table in A, B and public are the same after the module as before it."""
    with django_db_blocker.unblock():
        before = world.watch.counts()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        after = world.watch.counts()
    assert after == before, {table: (before.get(table), n) for table, n in after.items() if before.get(table) != n}


# --- requests and answers ---------------------------------------------------------------------------

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code", "request_id"}


def send(
    client,
    method: str,
    path: str,
    *,
    query: dict | None = None,
    body=None,
    raw: bytes | None = None,
    content_type: str = "application/json",
    idempotency_key: str | None = "auto",
    **headers,
):
    """One request as a client product sends it: a JSON body (or raw bytes) and, on a POST, a
    fresh Idempotency-Key unless told otherwise."""
    from urllib.parse import urlencode

    if query:
        path = f"{path}?{urlencode(query)}"
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
    if method == "POST" and idempotency_key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex if idempotency_key == "auto" else idempotency_key
    return client.generic(method, path, raw, content_type=content_type, **headers)


def refusal(response, statuses, codes=None) -> dict:
    """A problem+json answer (RFC 9457 members, the request's id) with one of these statuses and
    codes; returns its body."""
    statuses = {statuses} if isinstance(statuses, int) else set(statuses)
    assert response.status_code in statuses, (response.status_code, response.content[:600])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    problem = json.loads(response.content)
    assert set(problem) >= PROBLEM_MEMBERS, problem
    assert problem["status"] == response.status_code
    if codes is not None:
        codes = {codes} if isinstance(codes, str) else set(codes)
        assert problem["code"] in codes, problem
    assert problem["code"] and re.fullmatch(r"[a-z][a-z0-9_]*", problem["code"]), problem
    if response.get("Idempotent-Replayed") != "true":
        assert problem["request_id"] == response["X-Request-Id"]
    return problem


def fields_named(problem: dict) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]
