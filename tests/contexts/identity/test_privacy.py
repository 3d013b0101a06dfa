"""Personal data stays where it is encrypted: never in logs, reprs, events, audit records, task
messages or error messages."""

import base64
import json
import logging

import pytest
import redis
from django.conf import settings as django_settings

from contexts.identity import api, kyc
from contexts.identity.adapters.base import Decision, SubmissionRequest
from contexts.identity.clearance import risk_flag_clearance_request
from contexts.identity.models import Customer, KycSubmission, RiskFlag
from finfactory.audit.models import AuditRecord
from finfactory.backoffice.models import ApprovalRequest
from finfactory.backoffice.services import approval_approve
from finfactory.errors import PlatformError
from finfactory.outbox.models import OutboxEvent

from .vendor_standin import API_KEY, WEBHOOK_SECRET, VendorStandIn

PERSON = {
    "first_name": "Evangelina",
    "last_name": "Sarmiento",
    "email": "evangelina.s@example.net",
    "phone": "+639189990001",
    "birth_date": "1969-11-02",
    "address": {"line1": "9 Narra Lane", "city": "Baguio", "country": "PH"},
    "external_id": "crm-privacy",
}
ID_NUMBER = "ZX9988776"
SECRETS = ["Evangelina", "Sarmiento", "evangelina.s", "639189990001", "9189990001", "1969", "Narra", "Baguio",
           "ZX9988776", "9988776"]  # fmt: skip


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret.lower() in text.lower()]


def test_reprs_and_strings_show_ids_not_personal_data(identity):
    created = api.customer_create(**PERSON)
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=ID_NUMBER)
    customer = Customer.objects.get(public_id=created.id)
    submission = KycSubmission.objects.get(public_id=status.submission_id)
    request = SubmissionRequest(
        reference=submission.public_id, id_type="passport", level="full", id_number=ID_NUMBER,
        first_name=PERSON["first_name"], last_name=PERSON["last_name"], birth_date=customer.birth_date,
    )  # fmt: skip

    shown = [repr(created), str(created), repr(created.address), repr(customer), str(customer), repr(submission),
             str(submission), repr(request), repr(status)]  # fmt: skip

    assert leaks(" ".join(shown)) == []
    assert created.id in repr(created)


def test_events_audit_records_and_approvals_of_a_whole_flow_carry_no_personal_data(identity, watchlist, staff):
    watchlist("Evangelina Sarmiento")
    created = api.customer_create(**PERSON)
    status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=ID_NUMBER)
    kyc.kyc_decision_apply(provider="sandbox", decision=Decision(submission_id=status.submission_id,
                                                                 outcome="verified"))  # fmt: skip
    flag = RiskFlag.objects.get(customer__public_id=created.id)
    approval = risk_flag_clearance_request(flag_id=flag.public_id, requested_by=staff("mk", "Operator"), reason="fp")
    approval_approve(approval_id=approval.public_id, approver=staff("ck", "Approver"))

    recorded = json.dumps(
        {
            "events": list(OutboxEvent.objects.values("type", "aggregate_id", "data")),
            "audit": list(AuditRecord.objects.values("action", "target_id", "before", "after", "reason")),
            "approvals": list(ApprovalRequest.objects.values("payload", "result", "error")),
        },
        default=str,
    )

    assert api.kyc_status(customer_id=created.id).status == "verified"
    assert leaks(recorded) == []


def test_refusals_never_repeat_the_personal_data_they_refuse(identity):
    api.customer_create(**PERSON)
    other = api.customer_create(**{**PERSON, "external_id": "crm-other", "phone": None})
    api.kyc_submit(customer_id=api.customer_list(external_id="crm-privacy").items[0].id, id_type="passport",
                   id_number=ID_NUMBER)  # fmt: skip
    refusals = []
    for call in (
        lambda: api.customer_create(**{**PERSON, "first_name": "Evangelina2"}),  # external_id reused
        lambda: api.customer_create(**{**PERSON, "phone": "+63918999000"}),  # invalid phone
        lambda: api.customer_create(**{**PERSON, "email": "evangelina.s@"}),
        lambda: api.customer_create(**{**PERSON, "birth_date": "1969-13-02"}),
        lambda: api.kyc_submit(customer_id=other.id, id_type="passport", id_number=ID_NUMBER),  # in use
        lambda: api.kyc_submit(customer_id=other.id, id_type="passport", id_number="ZX99#88776"),
    ):
        with pytest.raises(PlatformError) as refused:
            call()
        error = refused.value
        refusals.append(" ".join([str(error), error.detail, *(f"{e.field} {e.message}" for e in error.errors)]))

    assert len(refusals) == 6
    assert leaks(" ".join(refusals)) == []


def test_nothing_personal_is_logged_on_the_way_to_a_vendor_and_back(identity, settings, caplog, client):
    caplog.set_level(logging.DEBUG)
    with VendorStandIn() as vendor:
        settings.IDENTITY_KYC_PROVIDER = "vendor"
        settings.IDENTITY_VENDOR_BASE_URL = vendor.url
        settings.IDENTITY_VENDOR_API_KEY = API_KEY
        settings.IDENTITY_VENDOR_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
        created = api.customer_create(**PERSON)
        status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=ID_NUMBER)
        vendor.next_answers.append((503, json.dumps({"echo": ID_NUMBER}).encode(), {}))
        with pytest.raises(PlatformError):
            kyc.kyc_submission_send(submission_id=status.submission_id)
        kyc.kyc_submission_send(submission_id=status.submission_id)
        check = vendor.decide(vendor.check_for(status.submission_id)["id"], "approved")
        body = json.dumps(check).encode()
        from contexts.identity.callbacks import kyc_callback_handle

        with pytest.raises(PlatformError):
            kyc_callback_handle(provider="vendor", headers={"Vendor-Signature": "t=1,v1=00"}, body=body)
        kyc_callback_handle(provider="vendor", headers=vendor.signed(body), body=body)
        assert vendor.requests[-1]["body"]["person"]["first_name"] == "Evangelina"  # it did go to the vendor

    logged = caplog.text + " ".join(str(record.msg) for record in caplog.records)

    assert api.kyc_status(customer_id=created.id).status == "verified"
    assert "identity.vendor_call" in logged  # the adapter did log, with ids and statuses only
    assert leaks(logged) == []


def test_tasks_carry_the_submission_id_only(identity, unconsumed_queue, django_capture_on_commit_callbacks):
    created = api.customer_create(**PERSON)

    with django_capture_on_commit_callbacks(execute=True):
        status = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=ID_NUMBER)

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    try:
        (raw,) = client.lrange(unconsumed_queue, 0, -1)
    finally:
        client.close()
    message = json.loads(raw)
    body = json.loads(base64.b64decode(message["body"]))
    assert message["headers"]["task"] == "contexts.identity.tasks.send_submission"
    assert message["headers"]["_schema_name"] == identity.schema_name
    assert body[0] == [status.submission_id] and body[1] == {}
    assert leaks(raw.decode()) == []
