"""KYC through its life: submission, provider decisions, levels, resubmission, expiry."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from contexts.identity import api, kyc, tasks
from contexts.identity.adapters.base import Decision
from contexts.identity.models import KycCase, KycSubmission
from finfactory.errors import BusinessRuleViolation, Conflict, InvalidInput, NotFound

from .conftest import audit_trail, events, id_number, written


def submit(customer_id: str, number: str | None = None, **kwargs):
    return api.kyc_submit(customer_id=customer_id, id_type="passport", id_number=number or id_number(), **kwargs)


def decide(status, outcome: str, **kwargs):
    return kyc.kyc_decision_apply(
        provider="sandbox", decision=Decision(submission_id=status.submission_id, outcome=outcome, **kwargs)
    )


def test_a_submission_is_pending_and_announced_with_kyc_started(customer):
    created = customer()

    status = submit(created.id, "P-1234 567")

    assert (status.status, status.level, status.attempts, status.resubmissions_left) == ("pending", "none", 1, 2)
    assert status.blocked_by_risk is False
    submission = KycSubmission.objects.get(public_id=status.submission_id)
    assert (submission.id_type, submission.id_number, submission.requested_level, submission.provider) == (
        "passport", "P1234567", "full", "sandbox"
    )  # fmt: skip
    assert events("kyc.") == [
        ("kyc.started", created.id,
         {"customer_id": created.id, "kyc_id": status.kyc_id, "submission_id": status.submission_id, "attempt": 1,
          "requested_level": "full", "provider": "sandbox"}),
    ]  # fmt: skip
    assert audit_trail("kyc.") == [
        ("kyc.submitted", "system:test", status.kyc_id, {"status": "not_started"},
         {"status": "pending", "customer_id": created.id, "submission_id": status.submission_id, "attempt": 1,
          "id_type": "passport", "requested_level": "full", "provider": "sandbox"}),
    ]  # fmt: skip
    assert api.kyc_status(customer_id=created.id) == status


def test_a_verified_decision_sets_the_level_and_publishes_it_for_wallet_tiers(customer):
    created = customer()
    status = submit(created.id, level="basic")

    verified = decide(status, "verified")

    assert (verified.status, verified.level) == ("verified", "basic")
    assert api.customer_level(customer_id=created.id) == "basic"
    assert api.customer_get(customer_id=created.id).kyc_level == "basic"
    case = KycCase.objects.get(public_id=status.kyc_id)
    assert case.expires_at - case.verified_at == pytest.approx(timedelta(days=365), abs=timedelta(seconds=1))
    (event,) = events("kyc.verified")
    assert event == (
        "kyc.verified",
        created.id,
        {
            "customer_id": created.id,
            "kyc_id": status.kyc_id,
            "submission_id": status.submission_id,
            "level": "basic",
            "verified_at": case.verified_at.isoformat().replace("+00:00", "Z"),
            "expires_at": case.expires_at.isoformat().replace("+00:00", "Z"),
        },
    )
    assert audit_trail("kyc.verified")[0][1] == "system:kyc_provider:sandbox"


def test_the_provider_may_verify_another_level_and_a_document_expiry_shortens_the_validity(customer):
    created = customer()
    status = submit(created.id)
    document_expiry = timezone.now().date() + timedelta(days=30)

    verified = decide(status, "verified", level="basic", expires_on=document_expiry)

    assert verified.level == "basic"
    expected = datetime(document_expiry.year, document_expiry.month, document_expiry.day, tzinfo=UTC)
    assert verified.expires_at == expected


def test_an_expired_document_is_rejected_even_if_the_provider_verified_it(customer):
    created = customer()
    status = submit(created.id)

    result = decide(status, "verified", expires_on=date(2020, 1, 1))

    assert (result.status, result.rejection_reason) == ("rejected", "document_expired")


def test_the_same_decision_twice_is_applied_once_and_a_contrary_one_is_refused(customer):
    created = customer()
    status = submit(created.id)
    decide(status, "verified")
    before = written()

    replay = decide(status, "verified")
    with pytest.raises(Conflict) as contrary:
        decide(status, "rejected", reason="document_rejected")

    assert (replay.replayed, replay.status) == (True, "verified")
    assert contrary.value.code == "decision_conflict"
    assert written() == before
    assert len(events("kyc.verified")) == 1


@pytest.mark.parametrize("provider", ["vendor", "sandbox"])
def test_a_decision_about_a_submission_the_provider_was_not_given_is_not_found(customer, provider):
    created = customer()
    status = submit(created.id)
    submission_id = status.submission_id if provider == "vendor" else "kys_unknown"
    before = written()

    with pytest.raises(NotFound) as missing:
        kyc.kyc_decision_apply(provider=provider, decision=Decision(submission_id=submission_id, outcome="verified"))

    assert missing.value.code == "submission_not_found"
    assert written() == before


def test_rejections_allow_resubmissions_up_to_the_setting_then_refuse(customer, settings):
    settings.IDENTITY_KYC_MAX_RESUBMISSIONS = 2
    created = customer()
    left = []
    for _ in range(3):
        status = submit(created.id)
        left.append(decide(status, "rejected", reason="document_rejected").resubmissions_left)
    before = written()

    with pytest.raises(BusinessRuleViolation) as refused:
        submit(created.id)

    assert left == [2, 1, 0]
    assert [data["resubmissions_left"] for _, _, data in events("kyc.rejected")] == [2, 1, 0]
    assert [data["attempt"] for _, _, data in events("kyc.rejected")] == [1, 2, 3]
    assert refused.value.code == "kyc_resubmission_limit"
    assert written() == before


def test_a_verification_resets_the_rejections_and_a_renewal_after_expiry_starts_afresh(customer):
    created = customer()
    decide(submit(created.id), "rejected", reason="document_rejected")
    status = submit(created.id)
    decide(status, "verified")
    case = KycCase.objects.get(public_id=status.kyc_id)
    assert (case.attempts, case.rejections) == (2, 0)

    KycCase.objects.filter(pk=case.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    tasks.expire_kyc.run()
    renewed = submit(created.id)

    assert (renewed.status, renewed.attempts, renewed.rejections) == ("pending", 3, 0)


def test_submitting_the_same_document_again_is_a_replay_that_writes_nothing(customer):
    created = customer()
    number = id_number()
    first = submit(created.id, number)
    before = written()

    again = submit(created.id, number.lower())

    assert again.replayed is True
    assert again.submission_id == first.submission_id
    assert written() == before


def test_a_customer_with_only_the_required_fields_can_be_verified(identity):
    """The product API's flow: {first_name, last_name, email}, then {id_type, id_number}."""
    created = api.customer_create(first_name="Lea", last_name="Salonga", email="lea@example.com")

    verified = decide(submit(created.id), "verified")

    assert (verified.status, verified.level) == ("verified", "full")


def test_an_id_number_in_use_by_another_customer_is_refused_through_its_blind_index(customer):
    number = id_number()
    first, second = customer(), customer()
    submit(first.id, number)
    before = written()

    with pytest.raises(BusinessRuleViolation) as refused:
        submit(second.id, f" {number[:3]}-{number[3:]} ")

    assert refused.value.code == "id_number_in_use"
    assert [(e.field, e.code) for e in refused.value.errors] == [("id_number", "id_number_in_use")]
    assert number not in str(refused.value)
    assert written() == before


def test_a_rejected_customer_may_resubmit_the_same_document(customer):
    created = customer()
    number = id_number()
    decide(submit(created.id, number), "rejected", reason="blurry_image")

    again = submit(created.id, number)

    assert (again.status, again.attempts, again.replayed) == ("pending", 2, False)


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"id_type": "library_card"}, "id_type", "invalid_choice"),
        ({"id_number": "12"}, "id_number", "invalid_id_number"),
        ({"id_number": "ABC#1234"}, "id_number", "invalid_id_number"),
        ({"id_number": None}, "id_number", "required"),
        ({"level": "premium"}, "level", "invalid_choice"),
        ({"customer_id": 42}, "customer_id", "invalid_id"),
    ],
)
def test_bad_submission_input_is_refused_naming_the_field_and_nothing_is_written(customer, kwargs, field, code):
    created = customer()
    before = written()
    arguments = {"customer_id": created.id, "id_type": "passport", "id_number": id_number(), **kwargs}

    with pytest.raises(InvalidInput) as refused:
        api.kyc_submit(**arguments)

    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert written() == before


def test_an_unknown_customer_has_no_status_level_or_submission(identity):
    for call in (
        lambda: api.kyc_status(customer_id="cus_00000000000000000000000000"),
        lambda: api.customer_level(customer_id="cus_00000000000000000000000000"),
        lambda: submit("cus_00000000000000000000000000"),
    ):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.code == "customer_not_found"


def test_the_expiry_beat_expires_due_verifications_only_and_drops_the_level_to_none(customer):
    due, fresh = customer(), customer()
    due_status, fresh_status = submit(due.id), submit(fresh.id)
    decide(due_status, "verified")
    decide(fresh_status, "verified", level="basic")
    KycCase.objects.filter(public_id=due_status.kyc_id).update(expires_at=timezone.now() - timedelta(minutes=1))

    expired = tasks.expire_kyc.run()
    again = tasks.expire_kyc.run()

    assert list(expired.values()) == [1]
    assert again == {}
    assert (api.kyc_status(customer_id=due.id).status, api.customer_level(customer_id=due.id)) == ("expired", "none")
    assert api.customer_level(customer_id=fresh.id) == "basic"
    (event,) = events("kyc.expired")
    case = KycCase.objects.get(public_id=due_status.kyc_id)
    assert event == (
        "kyc.expired",
        due.id,
        {"customer_id": due.id, "kyc_id": due_status.kyc_id, "level": "none", "previous_level": "full",
         "expired_at": case.expired_at.isoformat().replace("+00:00", "Z")},
    )  # fmt: skip
    assert audit_trail("kyc.expired")[0][1] == "system:kyc_expiry"


def test_a_customers_events_are_one_ordered_history(customer):
    created = customer()
    status = submit(created.id)
    decide(status, "verified")

    assert [type_ for type_, aggregate, _ in events() if aggregate == created.id] == [
        "customer.created",
        "kyc.started",
        "kyc.verified",
    ]
