"""The ledger in a tenant's back office: read-only pages and the trial balance."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import RequestFactory

from contexts.ledger import api
from contexts.ledger.admin import AccountAdmin, HoldAdmin, JournalEntryAdmin
from contexts.ledger.models import Account, Hold, JournalEntry
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain

HOST = "acme.admin.localhost"


@pytest.fixture
def acme(make_tenant):
    tenant = make_tenant("acme").tenant
    Domain.objects.create(domain=HOST, tenant=tenant, is_primary=True)
    return tenant


@pytest.fixture
def books(acme):
    """A float, two wallets, a transfer, a partial reversal, a captured hold and an open hold."""
    with in_tenant(acme), acting_as("system:test", request_id="req_ledger_admin"):
        float_php = api.system_account(code="float", currency="PHP")
        alice = api.account_open(currency="PHP", type="liability", owner_ref="wal_alice", name="Alice")
        bob = api.account_open(currency="PHP", type="liability", owner_ref="wal_bob", name="Bob")
        api.transfer(
            external_ref="fund-alice", debit_account_id=float_php.id, credit_account_id=alice.id, amount=100_000,
            currency="PHP",
        )  # fmt: skip
        paid = api.transfer(
            external_ref="alice-to-bob", debit_account_id=alice.id, credit_account_id=bob.id, amount=12_345,
            currency="PHP",
        )  # fmt: skip
        api.entry_reverse(entry_id=paid.id, external_ref="alice-to-bob-refund", amount=345)
        captured = api.hold_create(
            external_ref="hold-1", account_id=alice.id, credit_account_id=bob.id, amount=5_000, currency="PHP"
        )
        api.hold_capture(hold_id=captured.id, external_ref="hold-1-capture", amount=4_000)
        open_hold = api.hold_create(
            external_ref="hold-2", account_id=alice.id, credit_account_id=bob.id, amount=1_000, currency="PHP"
        )
        usd_float = api.system_account(code="float", currency="USD")
        usd_wallet = api.account_open(currency="USD", type="liability", name="Dollar wallet")
        api.transfer(
            external_ref="fund-usd", debit_account_id=usd_float.id, credit_account_id=usd_wallet.id, amount=250,
            currency="USD",
        )  # fmt: skip
    return {"alice": alice, "bob": bob, "paid": paid, "captured": captured, "open_hold": open_hold}


@pytest.fixture
def staff_client(acme, client):
    """staff_client(role=None, superuser=False): the test client logged in to the tenant's admin."""

    def login(*, superuser: bool = False, role: str | None = None):
        with in_tenant(acme):
            user = get_user_model().objects.create_user(
                username=f"staff-{role or 'none'}-{superuser}", is_staff=True, is_superuser=superuser
            )
            if role:
                user.groups.add(Group.objects.get(name=role))
            client.force_login(user)
        return client

    return login


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path, HTTP_HOST=HOST)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def test_the_ledger_pages_render_for_a_superuser(acme, books, staff_client):
    client = staff_client(superuser=True)
    with in_tenant(acme):
        entry_pk = JournalEntry.objects.get(public_id=books["paid"].id).pk
        account_pk = Account.objects.get(public_id=books["alice"].id).pk
        hold_pk = Hold.objects.get(public_id=books["captured"].id).pk

    accounts = page(client, "/admin/ledger/account/")
    assert books["alice"].id in accounts and "Alice" in accounts
    assert "/admin/ledger/account/trial-balance/" in accounts
    # Alice: 1000.00 funded, 123.45 paid, 3.45 refunded, 40.00 captured; 10.00 held.
    assert all(amount in accounts for amount in ("840.00", "10.00", "830.00", "160.00"))
    assert "Add account" not in accounts

    account = page(client, f"/admin/ledger/account/{account_pk}/change/")
    assert "wal_alice" in account and "840.00" in account and "830.00" in account

    entries = page(client, "/admin/ledger/journalentry/")
    assert "alice-to-bob-refund" in entries and "hold-1-capture" in entries

    entry = page(client, f"/admin/ledger/journalentry/{entry_pk}/change/")
    assert "123.45" in entry
    assert entry.index(books["alice"].id) < entry.index(books["bob"].id)  # postings by line

    holds = page(client, "/admin/ledger/hold/")
    assert books["open_hold"].id in holds and "40.00" in holds
    assert "hold-1" in page(client, f"/admin/ledger/hold/{hold_pk}/change/")


def test_search_finds_accounts_by_owner_and_entries_by_reference(books, staff_client):
    client = staff_client(superuser=True)

    by_owner = page(client, "/admin/ledger/account/?q=wal_bob")
    by_ref = page(client, "/admin/ledger/journalentry/?q=alice-to-bob")

    assert books["bob"].id in by_owner and books["alice"].id not in by_owner
    assert books["paid"].id in by_ref and "alice-to-bob-refund" not in by_ref


def test_the_trial_balance_page_shows_a_zero_difference_per_currency(books, staff_client):
    html = page(staff_client(superuser=True), "/admin/ledger/account/trial-balance/")

    rows = re.findall(r'<tr class="(\w+)">\s*<td>(\w{3})</td>((?:\s*<td[^>]*>[^<]*</td>){4})', html)
    cells = {currency: re.findall(r">([^<]*)</td>", rest) for _, currency, rest in rows}
    assert {currency for _, currency, _ in rows} == {"PHP", "USD"}
    assert all(kind == "balanced" for kind, _, _ in rows)
    assert cells["PHP"] == ["1000.00", "1000.00", "0.00", "3"]
    assert cells["USD"] == ["2.50", "2.50", "0.00", "2"]
    assert "Balanced in every currency." in html


def test_the_trial_balance_page_needs_view_permission(books, staff_client, client):
    assert client.get("/admin/ledger/account/trial-balance/", HTTP_HOST=HOST).status_code == 302  # to the login

    page(staff_client(role=None), "/admin/ledger/account/trial-balance/", status=403)
    assert "Balanced in every currency." in page(staff_client(role="Viewer"), "/admin/ledger/account/trial-balance/")


def test_the_ledger_admin_is_read_only_and_absent_from_the_public_admin(books, acme):
    user = get_user_model()(username="root", is_superuser=True, is_staff=True, is_active=True)
    request = RequestFactory().get("/admin/")
    request.user = user

    for model, model_admin in ((Account, AccountAdmin), (JournalEntry, JournalEntryAdmin), (Hold, HoldAdmin)):
        instance = model_admin(model, admin.site)
        with in_tenant(acme):
            assert instance.has_view_permission(request) and instance.has_module_permission(request)
            assert not instance.has_add_permission(request)
            assert not instance.has_change_permission(request)
            assert not instance.has_delete_permission(request)
            assert "delete_selected" not in instance.get_actions(request)
        assert not instance.has_module_permission(request)  # the public schema has no ledger tables
        assert not instance.has_view_permission(request)
