"""Wallets in the back office: read-only records, suspend / reactivate with a reason, and tier
limit changes under maker-checker (an Operator asks, a different Approver approves)."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory

from contexts.wallets import api
from contexts.wallets.admin import TierAdmin, WalletAdmin
from contexts.wallets.models import Tier, Wallet
from contexts.wallets.tiers import tier_limit_change
from finfactory.audit.models import AuditRecord
from finfactory.backoffice.models import ApprovalRequest
from finfactory.backoffice.services import approval_approve
from finfactory.errors import Forbidden
from finfactory.outbox.models import OutboxEvent
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain

from .factories import WalletFactory

HOST = "acme.admin.localhost"
WALLETS = "/admin/wallets/wallet/"


@pytest.fixture
def acme(tenant):
    Domain.objects.create(domain=HOST, tenant=tenant, is_primary=True)
    return tenant


@pytest.fixture
def opened(acme):
    """Three wallets: basic, full, and a suspended one (KYC none)."""
    with in_tenant(acme), acting_as("system:test"):
        basic = WalletFactory(kyc_level="basic")
        full = WalletFactory(kyc_level="full")
        suspended = WalletFactory(kyc_level="none")
        api.wallet_suspend(wallet_id=suspended.id, reason="chargeback review")
        api.limits_reserve(wallet_id=basic.id, kind="cash_in", amount=123_456, currency="PHP", reference="cin-admin")
    connection.set_schema_to_public()
    return {"basic": basic, "full": full, "suspended": suspended}


@pytest.fixture
def staff(acme):
    """staff(username, role) -> a staff user of the tenant in that role group."""

    def make(username: str, role: str | None):
        with in_tenant(acme):
            user = get_user_model().objects.create_user(username=username, is_staff=True)
            if role:
                user.groups.add(Group.objects.get(name=role))
        connection.set_schema_to_public()
        return user

    return make


@pytest.fixture
def login(acme, client):
    def as_user(user):
        with in_tenant(acme):
            client.force_login(user)
        connection.set_schema_to_public()
        return client

    return as_user


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path, HTTP_HOST=HOST)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def pk_of(acme, model, **lookup) -> int:
    with in_tenant(acme):
        pk = model.objects.get(**lookup).pk
    connection.set_schema_to_public()
    return pk


def wallet_state(acme, wallet_id: str) -> tuple:
    with in_tenant(acme):
        state = Wallet.objects.filter(public_id=wallet_id).values_list("status", "status_reason").get()
    connection.set_schema_to_public()
    return state


def test_a_viewer_sees_wallets_tiers_and_usage_in_major_units(acme, opened, staff, login):
    client = login(staff("vera", "Viewer"))

    listing = page(client, WALLETS)
    wallet_page = page(client, f"{WALLETS}{pk_of(acme, Wallet, public_id=opened['basic'].id)}/change/")
    tiers = page(client, "/admin/wallets/tier/")
    tier_page = page(client, f"/admin/wallets/tier/{pk_of(acme, Tier, code='premium')}/change/")

    assert all(opened[name].id in listing for name in opened) and "premium" in listing
    assert "Add wallet" not in listing
    assert opened["basic"].customer_id in wallet_page and "1234.56" in wallet_page  # today's cash-in usage
    assert "Request a limit change" in tiers and "100000.00" in tiers  # basic max balance
    assert "500000.00" in tier_page and "100000.00" in tier_page  # premium max balance, cash-in max
    assert "cin-admin" in page(client, "/admin/wallets/limitreservation/")
    assert "Asia/Manila" in page(client, "/admin/wallets/limitpolicy/")


def test_records_are_read_only_and_absent_from_the_public_admin(acme, opened):
    root = get_user_model()(username="root", is_superuser=True, is_staff=True, is_active=True)
    request = RequestFactory().get("/admin/")
    request.user = root

    for model, model_admin in ((Wallet, WalletAdmin), (Tier, TierAdmin)):
        instance = model_admin(model, admin.site)
        with in_tenant(acme):
            assert instance.has_view_permission(request) and instance.has_module_permission(request)
            assert not instance.has_add_permission(request)
            assert not instance.has_change_permission(request)
            assert not instance.has_delete_permission(request)
        assert not instance.has_module_permission(request)  # public schema


def test_an_operator_suspends_with_a_reason_that_is_audited(acme, opened, staff, login):
    client = login(staff("otto", "Operator"))
    target = opened["basic"]
    selected = {"action": "suspend_selected", "_selected_action": [pk_of(acme, Wallet, public_id=target.id)]}

    asking = client.post(WALLETS, selected, HTTP_HOST=HOST)
    missing = client.post(WALLETS, {**selected, "apply": "1", "reason": "  "}, HTTP_HOST=HOST)
    done = client.post(WALLETS, {**selected, "apply": "1", "reason": "Fraud team ticket 881"}, HTTP_HOST=HOST)

    assert asking.status_code == 200 and 'name="reason"' in asking.content.decode()
    assert "A reason is required." in missing.content.decode()
    assert done.status_code == 302
    assert wallet_state(acme, target.id) == ("suspended", "Fraud team ticket 881")
    with in_tenant(acme):
        record = AuditRecord.objects.filter(target_id=target.id).latest("id")
        event = OutboxEvent.objects.filter(aggregate_id=target.id).latest("id")
    assert (record.action, record.actor, record.reason) == ("wallet.suspended", "user:otto", "Fraud team ticket 881")
    assert record.request_id.startswith("req_")
    assert (event.type, event.actor, event.data["reason"]) == ("wallet.suspended", "user:otto", "Fraud team ticket 881")


def test_an_operator_reactivates_and_an_illegal_transition_is_reported_not_applied(acme, opened, staff, login):
    client = login(staff("otto", "Operator"))
    suspended, active = opened["suspended"], opened["full"]
    pks = [pk_of(acme, Wallet, public_id=w.id) for w in (suspended, active)]

    response = client.post(
        WALLETS,
        {"action": "activate_selected", "_selected_action": pks, "apply": "1", "reason": "cleared"},
        HTTP_HOST=HOST,
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [f"{active.id}: The wallet is active: it cannot be activated.", f"{suspended.id}: active"]
    assert wallet_state(acme, suspended.id) == ("active", "cleared")
    assert wallet_state(acme, active.id) == ("active", "")


def test_a_viewer_cannot_suspend(acme, opened, staff, login):
    client = login(staff("vera", "Viewer"))
    target = opened["basic"]

    listing = page(client, WALLETS)
    client.post(
        WALLETS,
        {"action": "suspend_selected", "_selected_action": [pk_of(acme, Wallet, public_id=target.id)], "apply": "1",
         "reason": "try"},
        HTTP_HOST=HOST,
    )  # fmt: skip

    assert "suspend_selected" not in listing
    assert wallet_state(acme, target.id) == ("active", "")


def request_change(client, acme, *, field: str, value: str, reason: str = "Raise for payroll season"):
    url = f"/admin/wallets/tier/{pk_of(acme, Tier, code='basic')}/request-change/"
    return client.post(url, {"field": field, "value": value, "reason": reason}, HTTP_HOST=HOST)


def test_a_limit_change_applies_only_once_another_person_approves_it(acme, opened, staff, login):
    maker, checker = staff("otto", "Operator"), staff("anna", "Approver")
    client = login(maker)
    form = page(client, f"/admin/wallets/tier/{pk_of(acme, Tier, code='basic')}/request-change/")

    response = request_change(client, acme, field="cash_in.daily_amount", value="75000.50")

    assert "cash_in.daily_amount" in form and "100000.00" in form
    with in_tenant(acme):
        approval = ApprovalRequest.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(f"/{approval.pk}/change/")
        assert (approval.action, approval.status, approval.requested_by_id) == (
            "wallets.tier_limit_change", "pending", maker.pk,
        )  # fmt: skip
        assert approval.payload == {"tier": "basic", "currency": "PHP", "field": "cash_in.daily_amount",
                                    "value": 7_500_050}  # fmt: skip
        assert api.tiers_get().version == 1  # nothing applied yet
        with pytest.raises(Forbidden) as own:
            approval_approve(approval_id=approval.public_id, approver=maker)
        assert own.value.code == "approver_required"

        decided = approval_approve(approval_id=approval.public_id, approver=checker)

        assert (decided.status, decided.error) == ("executed", "")
        assert decided.result == {**approval.payload, "before": 10_000_000, "version": 2}
        current = api.tiers_get()
        assert current.schedule.tier_for(kyc_level="basic", currency="PHP").flow("cash_in").daily_amount == 7_500_050
        record = AuditRecord.objects.get(action="wallet_tiers.configured")
        assert (record.actor, record.reason) == (
            "user:anna",
            f"Raise for payroll season (approval {approval.public_id})",
        )
        assert OutboxEvent.objects.filter(type="wallet.limit.updated", aggregate_id="PHP:basic").count() == 1
    connection.set_schema_to_public()


def test_a_change_that_breaks_the_schedule_is_refused_when_asked(acme, opened, staff, login):
    client = login(staff("otto", "Operator"))

    above_monthly = request_change(client, acme, field="cash_in.daily_amount", value="100000.01")
    too_precise = request_change(client, acme, field="cash_in.max_amount", value="10.001")
    not_a_count = request_change(client, acme, field="cash_out.daily_count", value="2.5")

    assert "Must not exceed monthly_amount." in above_monthly.content.decode()
    assert "at most 2 decimals" in too_precise.content.decode()
    assert "Must be a whole number." in not_a_count.content.decode()
    with in_tenant(acme):
        assert ApprovalRequest.objects.count() == 0
    connection.set_schema_to_public()


def test_an_approval_that_no_longer_fits_fails_and_applies_nothing(acme, opened, staff, login):
    maker, checker = staff("otto", "Operator"), staff("anna", "Approver")
    request_change(login(maker), acme, field="cash_in.daily_amount", value="90000")
    with in_tenant(acme), acting_as("system:test"):
        # Meanwhile the monthly cap is lowered below the requested daily amount.
        for field, value in (("cash_in.daily_amount", 8_000_000), ("cash_in.monthly_amount", 8_500_000)):
            tier_limit_change(tier="basic", currency="PHP", field=field, value=value, reason="lower the caps")

        decided = approval_approve(approval_id=ApprovalRequest.objects.get().public_id, approver=checker)

        assert decided.status == "failed" and "Must not exceed monthly_amount." in decided.error
        basic = api.tiers_get().schedule.tier_for(kyc_level="basic", currency="PHP")
        assert basic.flow("cash_in").daily_amount == 8_000_000
        assert api.tiers_get().version == 3
    connection.set_schema_to_public()


def test_a_viewer_cannot_request_a_limit_change(acme, opened, staff, login):
    client = login(staff("vera", "Viewer"))

    page(client, f"/admin/wallets/tier/{pk_of(acme, Tier, code='basic')}/request-change/", status=403)
    request_change(client, acme, field="cash_in.daily_amount", value="1")

    with in_tenant(acme):
        assert ApprovalRequest.objects.count() == 0
    connection.set_schema_to_public()
