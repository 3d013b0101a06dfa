"""The sandbox KYC provider: deterministic, asynchronous through Celery — decided by real worker
processes over the Redis broker (never eager mode), and recovered by the reconcile beat."""

import time

import pytest
from django.db import transaction

from contexts.identity import api, kyc, tasks
from contexts.identity.adapters.base import SubmissionRequest
from contexts.identity.adapters.sandbox import SandboxProvider
from finfactory.outbox.models import OutboxEvent, OutboxStatus
from finfactory.request_context import acting_as
from finfactory.tenancy.context import in_tenant
from tests.system.conftest import wait_for

from .conftest import CustomerData, id_number


def request(number: str, level: str = "full") -> SubmissionRequest:
    return SubmissionRequest(
        reference="kys_test", id_type="passport", level=level, id_number=number, first_name="Maria",
        last_name="Clara", birth_date=None,
    )  # fmt: skip


def test_an_id_number_ending_in_0000_is_rejected_any_other_verified_after_the_delay(settings, unconsumed_queue):
    settings.IDENTITY_SANDBOX_DECISION_SECONDS = 0.3
    sandbox = SandboxProvider()

    rejected = sandbox.submit(request("P12340000"))
    verified = sandbox.submit(request("P12345678", level="basic"))
    undecided = sandbox.fetch_status(verified.provider_reference)
    time.sleep(0.35)

    assert (rejected.decision, verified.decision, undecided) == (None, None, None)
    no = sandbox.fetch_status(rejected.provider_reference)
    yes = sandbox.fetch_status(verified.provider_reference)
    assert (no.submission_id, no.outcome, no.reason, no.level) == ("kys_test", "rejected", "document_rejected", None)
    assert (yes.submission_id, yes.outcome, yes.reason, yes.level) == ("kys_test", "verified", "", "basic")
    assert "P1234" not in verified.provider_reference  # the reference carries no personal data


def test_a_lost_sandbox_task_is_recovered_by_the_reconcile_beat(customer, settings, unconsumed_queue):
    settings.IDENTITY_SANDBOX_DECISION_SECONDS = 0
    settings.IDENTITY_KYC_RECONCILE_AFTER_SECONDS = 0
    created = customer()
    verified = api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())
    other = customer()
    rejected = api.kyc_submit(customer_id=other.id, id_type="passport", id_number=id_number("0000"))

    resent = tasks.reconcile_pending()  # neither was sent: the send tasks were queued on commit only
    kyc.kyc_submission_send(submission_id=verified.submission_id)
    kyc.kyc_submission_send(submission_id=rejected.submission_id)
    polled = tasks.reconcile_pending()

    assert resent == {"resent": 2, "polled": 0, "decided": 0, "unavailable": 0}
    assert polled == {"resent": 0, "polled": 2, "decided": 2, "unavailable": 0}
    assert api.kyc_status(customer_id=created.id).status == "verified"
    assert api.kyc_status(customer_id=other.id).status == "rejected"


@pytest.mark.system
def test_real_workers_decide_sandbox_submissions_within_seconds(committed_tenants, celery_workers, settings):
    settings.IDENTITY_QUEUE = settings.OUTBOX_QUEUE = celery_workers.queue
    tenant = committed_tenants("ids").tenant
    celery_workers(IDENTITY_QUEUE=celery_workers.queue, IDENTITY_SANDBOX_DECISION_SECONDS="2")
    with in_tenant(tenant), acting_as("system:test"):
        good = api.customer_create(**CustomerData())
        bad = api.customer_create(**CustomerData())
        with transaction.atomic():
            api.kyc_submit(customer_id=good.id, id_type="passport", id_number=id_number())
            api.kyc_submit(customer_id=bad.id, id_type="national_id", id_number=id_number("0000"))
        submitted_at = time.monotonic()
        assert {api.kyc_status(customer_id=c.id).status for c in (good, bad)} == {"pending"}

    def decided():
        with in_tenant(tenant):
            statuses = (api.kyc_status(customer_id=good.id).status, api.kyc_status(customer_id=bad.id).status)
        return statuses if "pending" not in statuses else None

    statuses = wait_for(decided, seconds=60, what="the sandbox decisions")
    waited = time.monotonic() - submitted_at

    assert statuses == ("verified", "rejected")
    assert waited >= 1.5  # not before the configured delay…
    with in_tenant(tenant):
        assert api.customer_level(customer_id=good.id) == "full"
        assert api.kyc_status(customer_id=bad.id).rejection_reason == "document_rejected"
        types = list(OutboxEvent.objects.order_by("id").values_list("type", "aggregate_id"))
    assert ("kyc.verified", good.id) in types and ("kyc.rejected", bad.id) in types

    def delivered():  # …and the same workers drain the outbox: the events reach subscribers
        with in_tenant(tenant):
            return not OutboxEvent.objects.exclude(status=OutboxStatus.DELIVERED).exists()

    wait_for(delivered, seconds=60, what="the identity events to be delivered")
