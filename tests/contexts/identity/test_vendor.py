"""The HTTP vendor adapter against a stand-in of the vendor's API on localhost, over real HTTP,
and the signed callback endpoint."""

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from contexts.identity import api, kyc, tasks
from contexts.identity.adapters.base import ProviderRefused, ProviderUnavailable, SubmissionRequest
from contexts.identity.adapters.http_vendor import SIGNATURE_HEADER, HttpVendorProvider
from contexts.identity.models import KycSubmission
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from finfactory.tenancy.models import Domain

from .conftest import CustomerData, audit_trail, events, id_number, written
from .vendor_standin import API_KEY, WEBHOOK_SECRET, VendorStandIn

CALLBACK = "/callbacks/identity/vendor"


@pytest.fixture
def vendor(settings):
    with VendorStandIn() as standin:
        settings.IDENTITY_KYC_PROVIDER = "vendor"
        settings.IDENTITY_VENDOR_BASE_URL = standin.url
        settings.IDENTITY_VENDOR_API_KEY = API_KEY
        settings.IDENTITY_VENDOR_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
        settings.IDENTITY_VENDOR_TIMEOUT_SECONDS = 2
        settings.IDENTITY_CALLBACK_SCHEME = "http"
        yield standin


@pytest.fixture
def host(identity):
    """The tenant's domain: callbacks reach the tenant by host name."""
    domain = f"{identity.schema_name.replace('_', '-')}.localhost"
    Domain.objects.create(domain=domain, tenant=identity, is_primary=True)
    return domain


def submitted(customer, vendor):
    """A customer with a vendor submission that has been sent (the send task's work)."""
    created = customer()
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    assert kyc.kyc_submission_send(submission_id=status.submission_id) == "sent"
    return created, status, vendor.check_for(status.submission_id)


def request_for(number: str = "P1234567") -> SubmissionRequest:
    return SubmissionRequest(
        reference="kys_test", id_type="passport", level="full", id_number=number, first_name="Maria",
        last_name="Clara", birth_date=None,
    )  # fmt: skip


def test_a_submission_is_sent_with_the_key_an_idempotency_key_and_the_document(customer, vendor, host):
    created, status, check = submitted(customer, vendor)

    (sent,) = vendor.requests
    assert (sent["method"], sent["path"]) == ("POST", "/v1/checks")
    assert sent["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert sent["headers"]["Idempotency-Key"] == status.submission_id
    submission = KycSubmission.objects.get(public_id=status.submission_id)
    customer_data = api.customer_get(customer_id=created.id)
    assert sent["body"] == {
        "reference": status.submission_id,
        "level": "full",
        "document": {"type": "passport", "number": submission.id_number},
        "person": {"first_name": customer_data.first_name, "last_name": customer_data.last_name,
                   "birth_date": "1990-06-19"},
        "callback_url": f"http://{host}{CALLBACK}",
    }  # fmt: skip
    assert (submission.provider, submission.provider_reference) == ("vendor", check["id"])
    assert submission.sent_at is not None
    assert audit_trail("kyc.sent_to_provider")[0][4] == {
        "submission_id": status.submission_id, "provider": "vendor", "provider_reference": check["id"],
    }  # fmt: skip


def test_sending_again_is_skipped_and_the_vendor_dedupes_a_repeated_request(customer, vendor, host):
    _, status, _ = submitted(customer, vendor)

    assert kyc.kyc_submission_send(submission_id=status.submission_id) == "skipped"
    HttpVendorProvider().submit(request_for())
    HttpVendorProvider().submit(request_for())

    assert len(vendor.checks) == 2  # the customer's, and one for the two identical requests


def test_a_decision_is_polled_when_no_callback_arrives(customer, vendor, host, settings):
    settings.IDENTITY_KYC_RECONCILE_AFTER_SECONDS = 0
    created, _, check = submitted(customer, vendor)

    undecided = tasks.reconcile_pending()
    vendor.decide(check["id"], "approved", level="basic")
    decided = tasks.reconcile_pending()

    assert undecided == {"resent": 0, "polled": 1, "decided": 0, "unavailable": 0}
    assert decided == {"resent": 0, "polled": 1, "decided": 1, "unavailable": 0}
    assert (vendor.requests[-1]["method"], vendor.requests[-1]["path"]) == ("GET", f"/v1/checks/{check['id']}")
    assert (api.kyc_status(customer_id=created.id).status, api.customer_level(customer_id=created.id)) == (
        "verified", "basic"
    )  # fmt: skip


def test_a_signed_callback_applies_the_decision_once(customer, vendor, host, client):
    created, _, check = submitted(customer, vendor)
    vendor.decide(check["id"], "declined", reason="document_tampered")
    body, headers = vendor.callback(check["id"])

    first = post_callback(client, host, body, headers)
    replay = post_callback(client, host, body, headers)

    assert (first.status_code, first.json()) == (200, {"received": True, "kyc_status": "rejected"})
    assert (replay.status_code, replay.json()) == (200, {"received": True, "kyc_status": "rejected"})
    assert api.kyc_status(customer_id=created.id).rejection_reason == "document_tampered"
    assert [type_ for type_, _, _ in events("kyc.rejected")] == ["kyc.rejected"]
    assert audit_trail("kyc.rejected")[0][1] == "system:kyc_provider:vendor"


def post_callback(client, host, body: bytes, headers: dict, provider: str = "vendor"):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post(f"/callbacks/identity/{provider}", data=body, content_type="application/json",
                       HTTP_HOST=host, **extra)  # fmt: skip


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        ("signature", 403, "invalid_callback_signature"),
        ("secret", 403, "invalid_callback_signature"),
        ("body", 403, "invalid_callback_signature"),
        ("stale", 403, "stale_callback"),
        ("future", 403, "stale_callback"),
        ("unsigned", 403, "missing_callback_signature"),
        ("garbled_header", 403, "invalid_callback_signature"),
        ("not_json", 400, "invalid_callback"),
        ("undecided", 400, "callback_undecided"),
        ("unknown_submission", 404, "submission_not_found"),
    ],
)
def test_a_callback_that_is_not_authentic_fresh_and_well_formed_is_refused_and_writes_nothing(
    customer, vendor, host, client, tamper, status, code
):
    _, submission, pending = submitted(customer, vendor)
    check = vendor.decide(pending["id"], "approved")
    body, headers = vendor.callback(check["id"])
    now = int(time.time())
    if tamper == "signature":
        headers = {SIGNATURE_HEADER: headers[SIGNATURE_HEADER][:-4] + "0000"}
    elif tamper == "secret":
        headers = vendor.signed(body, secret="someone-elses-secret-0123456789")
    elif tamper == "body":
        body = body.replace(b"approved", b"declined")
    elif tamper == "stale":
        headers = vendor.signed(body, timestamp=now - 301)
    elif tamper == "future":
        headers = vendor.signed(body, timestamp=now + 301)
    elif tamper == "unsigned":
        headers = {}
    elif tamper == "garbled_header":
        headers = {SIGNATURE_HEADER: "v1=abc"}
    elif tamper == "not_json":
        body = b"status=approved"
        headers = vendor.signed(body)
    elif tamper == "undecided":
        body = json.dumps(pending).encode()
        headers = vendor.signed(body)
    elif tamper == "unknown_submission":
        body = json.dumps({**check, "reference": "kys_00000000000000000000000000"}).encode()
        headers = vendor.signed(body)
    before = written()

    response = post_callback(client, host, body, headers)

    assert response.status_code == status, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert written() == before
    assert KycSubmission.objects.get(public_id=submission.submission_id).status == "pending"


def test_a_callback_signed_with_the_previous_secret_is_accepted_during_a_rotation(
    customer, vendor, host, client, settings
):
    settings.IDENTITY_VENDOR_WEBHOOK_SECRETS = ["the-new-secret-0123456789abcdef", WEBHOOK_SECRET]
    created, _, check = submitted(customer, vendor)
    vendor.decide(check["id"], "approved")

    response = post_callback(client, host, *vendor.callback(check["id"]))

    assert response.status_code == 200
    assert api.kyc_status(customer_id=created.id).status == "verified"


def test_the_callback_endpoint_knows_only_post_providers_that_call_back_and_tenant_hosts(
    customer, vendor, host, client
):
    body = b"{}"

    assert client.get(CALLBACK, HTTP_HOST=host).status_code == 405
    assert post_callback(client, host, body, {}, provider="acme").json()["code"] == "kyc_provider_not_found"
    assert post_callback(client, host, body, {}, provider="sandbox").json()["code"] == "callbacks_not_supported"
    assert post_callback(client, "api.example.com", body, vendor.signed(body)).status_code == 404


def test_a_callback_for_a_vendor_this_deployment_does_not_configure_is_not_found(identity, host, client, settings):
    settings.IDENTITY_VENDOR_WEBHOOK_SECRETS = []

    response = post_callback(client, host, b"{}", {"Vendor-Signature": "t=1,v1=00"})

    assert (response.status_code, response.json()["code"]) == (404, "kyc_provider_not_found")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((503, b"{}", {}), ProviderUnavailable),
        ((429, b"{}", {}), ProviderUnavailable),
        ((200, b"<html>", {"Content-Type": "text/html"}), ProviderUnavailable),
        ((302, b"", {"Location": "http://elsewhere.example/v1/checks"}), ProviderUnavailable),
        ((422, b'{"error": "invalid document"}', {}), ProviderRefused),
        ((400, b"{}", {}), ProviderRefused),
    ],
)
def test_vendor_failures_become_retryable_or_final_errors(vendor, answer, expected):
    vendor.next_answers.append(answer)

    with pytest.raises(expected) as failed:
        HttpVendorProvider().submit(request_for("SECRET123"))

    assert "SECRET123" not in str(failed.value)
    assert len(vendor.requests) == 1  # a redirect is not followed


def test_an_unreachable_or_slow_vendor_is_unavailable(vendor, closed_port, settings):
    vendor.delay = 0.6

    with pytest.raises(ProviderUnavailable):
        HttpVendorProvider(base_url=f"http://127.0.0.1:{closed_port}").submit(request_for())
    with pytest.raises(ProviderUnavailable):
        HttpVendorProvider(timeout=0.2).submit(request_for())


def test_an_unavailable_vendor_leaves_the_submission_unsent_for_a_retry(customer, vendor, host):
    created = customer()
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    vendor.next_answers.append((503, b"{}", {}))
    before = written()

    with pytest.raises(ProviderUnavailable):
        kyc.kyc_submission_send(submission_id=status.submission_id)
    assert written() == before
    retried = kyc.kyc_submission_send(submission_id=status.submission_id)

    assert retried == "sent"


def test_a_vendor_that_refuses_the_request_rejects_the_submission(customer, vendor, host):
    created = customer()
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    vendor.next_answers.append((422, b"{}", {}))

    outcome = kyc.kyc_submission_send(submission_id=status.submission_id)

    assert outcome == "decided"
    after = api.kyc_status(customer_id=created.id)
    assert (after.status, after.rejection_reason, after.resubmissions_left) == ("rejected", "provider_refused", 2)


@pytest.mark.system
def test_the_vendor_calls_back_over_http_and_the_tenant_is_found_by_host(
    committed_tenants, vendor, live_server, unconsumed_queue
):
    tenant = committed_tenants("idv").tenant
    domain = f"{tenant.schema_name.replace('_', '-')}.localhost"
    Domain.objects.create(domain=domain, tenant=tenant, is_primary=True)
    with in_tenant(tenant), acting_as("system:test"):
        created = api.customer_create(**CustomerData())
        status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
        kyc.kyc_submission_send(submission_id=status.submission_id)
    check = vendor.check_for(status.submission_id)
    document_expiry = (timezone.now() + timedelta(days=100)).date().isoformat()
    vendor.decide(check["id"], "approved", level="full", document_expires_on=document_expiry)
    connection.set_schema_to_public()

    answer = vendor.deliver_callback(check["id"], connect_to=live_server.url.removeprefix("http://"))

    assert answer == (200, {"received": True, "kyc_status": "verified"})
    with in_tenant(tenant):
        final = api.kyc_status(customer_id=created.id)
    assert (final.status, final.level, final.expires_at.date().isoformat()) == ("verified", "full", document_expiry)
