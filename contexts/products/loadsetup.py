"""A scratch tenant for the load commands (`bench_api`, `chaos_bank`): funded wallets, an API key,
and a product configuration and fraud rule pack tuned so that a load run measures the platform
rather than tripping a customer's daily limits.

What is tuned, and only that: the tier limits' counts and amounts are raised (a real product caps
an unverified customer at 5 transfers a day; a load run makes hundreds per wallet), the default
fraud rules are installed with their velocity thresholds raised (so every rule is still evaluated
on every movement, at its full cost, but none fires), and the key's rate limits are lifted. The
path each request takes is the production one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection

from contexts.fraud import api as fraud_api
from contexts.identity import api as identity_api
from finfactory.apikeys.scopes import TENANT_SCOPES
from finfactory.platform.services import tenant_provision
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Tenant
from finfactory.tenancy.schemas import tenant_schema_drop

from . import api
from .configuration import product_config, product_config_override
from .workflows import wallet_account

UNLIMITED_COUNT = 10**6
CURRENCY = "PHP"
ACTOR = "system:load"


@dataclass(frozen=True)
class LoadTenant:
    tenant: Tenant
    key: str
    wallets: tuple[str, ...]
    accounts: dict[str, str]  # wallet id → its ledger account id
    funding: int


def _unlimited_tiers(tiers: dict) -> dict:
    raised = []
    for tier in tiers["tiers"]:
        flows = {}
        for flow, limits in tier["flows"].items():
            flows[flow] = {
                **limits,
                "max_amount": limits["max_amount"] * 1000,
                "daily_amount": limits["daily_amount"] * 10_000,
                "monthly_amount": limits["monthly_amount"] * 10_000,
                "daily_count": UNLIMITED_COUNT,
                "monthly_count": UNLIMITED_COUNT,
            }
        raised.append({**tier, "max_balance": tier["max_balance"] * 10_000, "flows": flows})
    return {**tiers, "tiers": raised}


def load_tenant_create(*, label: str, wallets: int, funding: int) -> LoadTenant:
    """Provision `bench-<label>-…`, configure it for load, and open `wallets` wallets of one
    customer each, every one funded with `funding` by a cash-in."""
    with acting_as(ACTOR):
        provisioned = tenant_provision(slug=f"{label}-{uuid.uuid4().hex[:8]}", name=f"Load ({label})")
    tenant = provisioned.tenant
    Tenant.objects.filter(pk=tenant.pk).update(rate_limits=dict.fromkeys(TENANT_SCOPES, "1000000/s"))
    opened, accounts = [], {}
    with acting_as(ACTOR), in_tenant(tenant):
        reason = "load run: limits raised so that a run measures the platform"
        product_config_override(overrides={"tiers": _unlimited_tiers(product_config().as_dict()["tiers"])},
                                reason=reason)  # fmt: skip
        fraud_api.default_rules_install(
            reason=reason,
            params={
                "customer-burst": {"max_count": UNLIMITED_COUNT},
                "customer-daily-amount": {"max_amount": 10**15},
                "counterparty-fan-in": {"max_count": UNLIMITED_COUNT},
            },
        )
        for index in range(wallets):
            customer = identity_api.customer_create(first_name="Load", last_name=f"Customer {index}",
                                                    email=f"load{index}@example.org")  # fmt: skip
            wallet = api.wallet_open(customer_id=customer.id, currency=CURRENCY).id
            api.cash_in(wallet_id=wallet, amount=funding, currency=CURRENCY, reference=f"fund-{wallet}")
            opened.append(wallet)
            accounts[wallet] = wallet_account(wallet)
    connection.set_schema_to_public()
    return LoadTenant(tenant, provisioned.api_key.secret, tuple(opened), accounts, funding)


def load_tenant_drop(tenant: Tenant) -> None:
    connection.set_schema_to_public()
    tenant_schema_drop(tenant.schema_name)
    Tenant.objects.filter(pk=tenant.pk).delete()
