"""Identity in the tenant's back office: masked personal data, the watchlist, flag clearance."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from contexts.identity import api
from contexts.identity.admin import CustomerAdmin, KycCaseAdmin, RiskFlagAdmin, WatchlistEntryAdmin
from contexts.identity.models import Customer, KycCase, KycSubmission, RiskFlag, WatchlistEntry
from finfactory.backoffice.models import ApprovalRequest
from finfactory.tenancy.context import in_public_schema
from finfactory.tenancy.models import Domain

from .conftest import audit_trail


@pytest.fixture
def host(identity):
    domain = f"{identity.schema_name.replace('_', '-')}.admin.localhost"
    Domain.objects.create(domain=domain, tenant=identity, is_primary=True)
    return domain


@pytest.fixture
def login(host, client, staff):
    """login(role) -> the test client logged in to the tenant's admin as staff in that role."""

    def as_staff(role: str | None = None, *, superuser: bool = False):
        client.force_login(staff(f"staff-{role or 'root'}", role, is_superuser=superuser))
        return client

    return as_staff


def page(client, host, path: str, status: int = 200) -> str:
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


@pytest.fixture
def maria(customer):
    """A customer with distinctive personal data, and a KYC submission."""
    created = customer(
        first_name="Mariquita", last_name="Villanueva", email="mariquita.v@example.org", phone="+639178765432",
        birth_date="1977-03-14",
        address={"line1": "77 Kalayaan Avenue", "city": "Quezon City", "postal_code": "1101", "country": "PH"},
    )  # fmt: skip
    api.kyc_submit(customer_id=created.id, id_type="passport", id_number="EC4455667")
    return created


SECRETS = ["Mariquita", "Villanueva", "mariquita.v", "639178765432", "8765432", "1977", "Kalayaan", "Quezon",
           "EC4455667", "4455667"]  # fmt: skip


def assert_nothing_personal(html: str) -> None:
    assert [secret for secret in SECRETS if secret in html] == []


def test_customer_pages_show_personal_data_masked(maria, login, host):
    client = login(superuser=True)
    pk = Customer.objects.get(public_id=maria.id).pk

    listing = page(client, host, "/admin/identity/customer/")
    detail = page(client, host, f"/admin/identity/customer/{pk}/change/")

    assert maria.id in listing and "M. V." in listing and "m•••@example.org" in listing
    assert "•••••••••5432" in detail  # +639178765432: its last four
    assert "PH" in detail
    assert_nothing_personal(listing)
    assert_nothing_personal(detail)


def test_a_kyc_case_shows_its_submissions_with_the_id_number_masked(maria, login, host):
    client = login(superuser=True)
    case = KycCase.objects.get(customer__public_id=maria.id)
    submission = KycSubmission.objects.get(case=case)

    detail = page(client, host, f"/admin/identity/kyccase/{case.pk}/change/")

    assert submission.public_id in detail and "pending" in detail
    assert "••••••667" in detail  # a third of it at most
    assert_nothing_personal(detail)
    assert_nothing_personal(page(client, host, "/admin/identity/kyccase/"))


def test_staff_find_a_customer_by_exact_phone_without_anything_being_decrypted(maria, customer, login, host):
    other = customer()
    client = login("Viewer")

    found = page(client, host, "/admin/identity/customer/?q=%2B63+917+876+5432")
    by_id = page(client, host, f"/admin/identity/customer/?q={other.id}")

    assert maria.id in found and other.id not in found
    assert other.id in by_id and maria.id not in by_id


def test_customers_kyc_cases_and_flags_cannot_be_added_changed_or_deleted_here(maria, identity):
    user = get_user_model()(username="root", is_superuser=True, is_staff=True, is_active=True)
    request = RequestFactory().get("/admin/")
    request.user = user

    for model, model_admin in ((Customer, CustomerAdmin), (KycCase, KycCaseAdmin), (RiskFlag, RiskFlagAdmin)):
        instance = model_admin(model, admin.site)
        assert instance.has_view_permission(request) and instance.has_module_permission(request)
        assert not instance.has_add_permission(request)
        assert not instance.has_change_permission(request)
        assert not instance.has_delete_permission(request)
        with in_public_schema():
            assert not instance.has_module_permission(request)  # the public schema has no identity tables
    assert not WatchlistEntryAdmin(WatchlistEntry, admin.site).has_delete_permission(request)


def test_an_operator_adds_a_watchlist_entry_and_the_change_is_audited(login, host):
    client = login("Operator")

    response = client.post(
        "/admin/identity/watchlistentry/add/",
        {"full_name": "Ramón Magsaysay-Cruz", "list_name": "internal", "note": "fraud ring", "active": "on"},
        HTTP_HOST=host,
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    entry = WatchlistEntry.objects.get()
    assert (entry.full_name, entry.normalized_name, entry.active) == (
        "Ramón Magsaysay-Cruz", "ramon magsaysay cruz", True
    )  # fmt: skip
    (record,) = audit_trail("watchlist.")
    assert record[:3] == ("watchlist.entry_created", "user:staff-Operator", entry.public_id)
    assert "Ramón" not in str(record)


def test_an_operator_requests_clearance_with_a_reason_and_an_approver_clears_the_flag(
    customer, watchlist, login, host, client, staff
):
    watchlist("Mariquita Villanueva")
    flagged = customer(first_name="Mariquita", last_name="Villanueva")
    flag = RiskFlag.objects.get(customer__public_id=flagged.id)
    operator = login("Operator")
    action = {"action": "request_clearance", "_selected_action": [flag.pk]}

    asking = operator.post("/admin/identity/riskflag/", action, HTTP_HOST=host)
    requested = operator.post("/admin/identity/riskflag/", {**action, "apply": "1", "reason": "Other person"},
                              HTTP_HOST=host)  # fmt: skip

    assert asking.status_code == 200 and b'name="reason"' in asking.content
    assert requested.status_code == 302
    approval = ApprovalRequest.objects.get()
    assert (approval.action, approval.payload, approval.reason, approval.requested_by.username) == (
        "identity.risk_flag_clear", {"flag_id": flag.public_id}, "Other person", "staff-Operator"
    )  # fmt: skip
    assert RiskFlag.objects.get(pk=flag.pk).status == "open"

    client.force_login(staff("approver", "Approver"))
    approved = client.post(
        "/admin/backoffice/approvalrequest/",
        {"action": "approve_selected", "_selected_action": [approval.pk]},
        HTTP_HOST=host,
    )

    assert approved.status_code == 302
    assert (ApprovalRequest.objects.get().status, RiskFlag.objects.get(pk=flag.pk).status) == ("executed", "cleared")


def test_a_viewer_cannot_request_a_clearance(customer, watchlist, login, host):
    watchlist("Mariquita Villanueva")
    flag = RiskFlag.objects.get(customer__public_id=customer(first_name="Mariquita", last_name="Villanueva").id)
    viewer = login("Viewer")

    listing = page(viewer, host, "/admin/identity/riskflag/")
    response = viewer.post(
        "/admin/identity/riskflag/",
        {"action": "request_clearance", "_selected_action": [flag.pk], "apply": "1", "reason": "x"},
        HTTP_HOST=host,
    )

    assert "request_clearance" not in listing
    assert response.status_code == 200  # the changelist again: "No action selected"
    assert ApprovalRequest.objects.count() == 0
