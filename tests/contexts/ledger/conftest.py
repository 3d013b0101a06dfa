"""Ledger test fixtures: a tenant to post in and funded wallets."""

import itertools

import pytest

from contexts.ledger import api
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant

_refs = itertools.count(1)


def ref(prefix: str = "ref") -> str:
    return f"{prefix}-{next(_refs)}"


@pytest.fixture
def ledger(tenant):
    """Run the test inside a fresh tenant's schema (rolled back with the test)."""
    with in_tenant(tenant), acting_as("system:test", request_id="req_ledger_test"):
        yield tenant


@pytest.fixture
def float_account(ledger):
    return api.system_account(code="float", currency="PHP")


@pytest.fixture
def wallet(float_account):
    """wallet(balance=…) opens a PHP wallet (a liability) funded from the float."""

    def make(balance: int = 0, **kwargs):
        account = api.account_open(currency="PHP", type="liability", **kwargs)
        if balance:
            api.transfer(
                external_ref=ref("fund"), debit_account_id=float_account.id, credit_account_id=account.id,
                amount=balance, currency="PHP",
            )  # fmt: skip
        return account

    return make
