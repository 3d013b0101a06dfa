"""Ledger test fixtures: a tenant to post in and funded wallets."""

import itertools

import pytest
from django.db import connection, transaction

from contexts.ledger import api
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.factories import provision_tenant

_refs = itertools.count(1)


def ref(prefix: str = "ref") -> str:
    return f"{prefix}-{next(_refs)}"


@pytest.fixture(scope="module")
def ledger_tenant(django_db_setup, django_db_blocker):
    """One tenant for all the tests of a module, provisioned inside a transaction rolled back when
    the module ends (what TestCase.setUpTestData does): cloned once per module, never committed.
    Each test runs in a savepoint of it (the `db` fixture), so no test sees another's rows."""
    with django_db_blocker.unblock(), transaction.atomic():
        tenant = provision_tenant("ldg").tenant
        connection.set_schema_to_public()
        yield tenant
        connection.set_schema_to_public()
        transaction.set_rollback(True)


@pytest.fixture
def ledger(db, ledger_tenant):
    """Run the test inside the module's tenant schema, in the test's savepoint."""
    with in_tenant(ledger_tenant), acting_as("system:test", request_id="req_ledger_test"):
        yield ledger_tenant


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
