"""The KYC state machine: every state and every action, legal ones and refusals that write nothing."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from contexts.identity import api, expiry, kyc
from contexts.identity.models import KycCase
from finfactory.errors import BusinessRuleViolation, Conflict

from .conftest import audit_trail, events, id_number, written

STATES = ["not_started", "pending", "verified", "verified_due", "rejected", "rejected_at_limit", "expired"]
ACTIONS = ["submit", "verify", "reject", "expire"]


def build(customer, state: str) -> tuple[str, str]:
    """A customer whose KYC is in `state` (built through the services); (customer_id, kyc_id)."""
    created = customer()
    kyc_id = KycCase.objects.get(customer__public_id=created.id).public_id
    if state == "not_started":
        return created.id, kyc_id

    def submit():
        api.kyc_submit(customer_id=created.id, id_type="passport", id_number=id_number())

    submit()
    if state in ("verified", "verified_due", "expired"):
        past = timezone.now() - timedelta(seconds=1)
        kyc.kyc_verify(kyc_id=kyc_id, level="full", expires_at=past if state != "verified" else None)
        if state == "expired":
            expiry.kyc_expire(kyc_id=kyc_id)
    elif state == "rejected":
        kyc.kyc_reject(kyc_id=kyc_id, reason="document_rejected")
    elif state == "rejected_at_limit":
        for attempt in range(3):  # IDENTITY_KYC_MAX_RESUBMISSIONS = 2: three rejections in a row
            if attempt:
                submit()
            kyc.kyc_reject(kyc_id=kyc_id, reason="document_rejected")
    return created.id, kyc_id


def act(action: str, customer_id: str, kyc_id: str):
    if action == "submit":
        return api.kyc_submit(customer_id=customer_id, id_type="national_id", id_number=id_number())
    if action == "verify":
        return kyc.kyc_verify(kyc_id=kyc_id, level="basic")
    if action == "reject":
        return kyc.kyc_reject(kyc_id=kyc_id, reason="data_mismatch")
    return expiry.kyc_expire(kyc_id=kyc_id)


LEGAL = {
    ("not_started", "submit"): ("pending", "kyc.started"),
    ("pending", "verify"): ("verified", "kyc.verified"),
    ("pending", "reject"): ("rejected", "kyc.rejected"),
    ("verified_due", "expire"): ("expired", "kyc.expired"),
    ("rejected", "submit"): ("pending", "kyc.started"),
    ("expired", "submit"): ("pending", "kyc.started"),
}
AUDIT_ACTION = {"submit": "kyc.submitted", "verify": "kyc.verified", "reject": "kyc.rejected", "expire": "kyc.expired"}

REFUSED = {
    ("not_started", "verify"): (Conflict, "kyc_not_pending"),
    ("not_started", "reject"): (Conflict, "kyc_not_pending"),
    ("not_started", "expire"): (Conflict, "kyc_not_verified"),
    ("pending", "submit"): (Conflict, "kyc_already_pending"),
    ("pending", "expire"): (Conflict, "kyc_not_verified"),
    ("verified", "submit"): (Conflict, "kyc_already_verified"),
    ("verified", "verify"): (Conflict, "kyc_not_pending"),
    ("verified", "reject"): (Conflict, "kyc_not_pending"),
    ("verified", "expire"): (Conflict, "kyc_not_due"),
    ("verified_due", "submit"): (Conflict, "kyc_already_verified"),
    ("verified_due", "verify"): (Conflict, "kyc_not_pending"),
    ("verified_due", "reject"): (Conflict, "kyc_not_pending"),
    ("rejected", "verify"): (Conflict, "kyc_not_pending"),
    ("rejected", "reject"): (Conflict, "kyc_not_pending"),
    ("rejected", "expire"): (Conflict, "kyc_not_verified"),
    ("rejected_at_limit", "submit"): (BusinessRuleViolation, "kyc_resubmission_limit"),
    ("rejected_at_limit", "verify"): (Conflict, "kyc_not_pending"),
    ("rejected_at_limit", "reject"): (Conflict, "kyc_not_pending"),
    ("rejected_at_limit", "expire"): (Conflict, "kyc_not_verified"),
    ("expired", "verify"): (Conflict, "kyc_not_pending"),
    ("expired", "reject"): (Conflict, "kyc_not_pending"),
    ("expired", "expire"): (Conflict, "kyc_not_verified"),
}


def test_the_table_covers_every_state_and_action():
    assert set(LEGAL) | set(REFUSED) == {(s, a) for s in STATES for a in ACTIONS}
    assert not set(LEGAL) & set(REFUSED)


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_a_legal_transition_moves_the_case_publishes_its_event_and_is_audited(customer, state, action):
    customer_id, kyc_id = build(customer, state)
    before_status = KycCase.objects.get(public_id=kyc_id).status
    event_count, audit_count = len(events("kyc.")), len(audit_trail(AUDIT_ACTION[action]))

    result = act(action, customer_id, kyc_id)

    target, event = LEGAL[(state, action)]
    assert result.status == target
    assert KycCase.objects.get(public_id=kyc_id).status == target
    new_events = events("kyc.")[event_count:]
    assert [(type_, aggregate, data["customer_id"]) for type_, aggregate, data in new_events] == [
        (event, customer_id, customer_id)
    ]
    trail = audit_trail(AUDIT_ACTION[action])[audit_count:]
    assert [(a, target_id, before, after["status"]) for a, _, target_id, before, after in trail] == [
        (AUDIT_ACTION[action], kyc_id, {"status": before_status}, target)
    ]


@pytest.mark.parametrize(("state", "action"), sorted(REFUSED))
def test_an_illegal_transition_is_refused_with_its_code_and_writes_nothing(customer, state, action):
    customer_id, kyc_id = build(customer, state)
    before = written()

    error, code = REFUSED[(state, action)]
    with pytest.raises(error) as refused:
        act(action, customer_id, kyc_id)

    assert type(refused.value) is error
    assert refused.value.code == code
    assert written() == before


def test_the_status_cannot_be_assigned_only_transitioned(customer):
    _, kyc_id = build(customer, "pending")
    case = KycCase.objects.get(public_id=kyc_id)

    with pytest.raises(AttributeError):
        case.status = "verified"


def test_a_stale_copy_of_the_case_cannot_save_a_second_transition(customer):
    """The mixin's guard behind the row lock: a copy read before another transition is refused."""
    _, kyc_id = build(customer, "pending")
    first, stale = KycCase.objects.get(public_id=kyc_id), KycCase.objects.get(public_id=kyc_id)
    first.reject(reason="document_rejected")
    first.save()

    stale.verify(level="full", expires_at=timezone.now() + timedelta(days=1))
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()

    assert KycCase.objects.get(public_id=kyc_id).status == "rejected"
