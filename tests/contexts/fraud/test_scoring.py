"""Scoring a movement: the decision, its record and events, replays, and refused input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.fraud import api, services
from contexts.fraud.models import Assessment, KnownCustomer, KnownDevice, ReviewCase
from finfactory.errors import Conflict, InvalidInput, NotFound

from .conftest import events, last_event_id, writes


def test_a_movement_no_rule_or_model_objects_to_is_approved_and_recorded(customer):
    alice = customer()
    since = last_event_id()

    result = api.score(**alice.move(amount=25_000, device_id="dev-1", counterparty="wal_other"))

    assert (result.decision, result.score, result.rules_score, result.model_version) == ("approve", 0, 0, None)
    assert result.reasons == () and result.case_id is None and not result.replayed
    stored = Assessment.objects.get(public_id=result.id)
    assert (stored.amount, stored.currency, stored.decision, len(stored.features)) == (25_000, "PHP", "approve", 17)
    known = KnownCustomer.objects.get(customer_id=alice.customer_id)
    assert (known.movements_count, known.movements_amount) == (1, 25_000)
    assert KnownDevice.objects.filter(customer_id=alice.customer_id, device_id="dev-1").exists()
    assert events(since) == [
        (
            "risk.approved",
            {
                "assessment_id": result.id, "reference": result.reference, "customer_id": alice.customer_id,
                "wallet_id": alice.wallet_id, "movement_type": "transfer", "amount": 25_000, "currency": "PHP",
                "score": 0, "model_version": None, "model_score": None, "rules": [], "source": "scoring",
                "case_id": None,
            },
        )
    ]  # fmt: skip


def test_a_declining_rule_declines_announces_the_rule_and_counts_nothing_for_the_customer(customer, rule):
    alice = customer()
    fired = rule("amount_threshold", {"currency": "PHP", "min_amount": 50_000}, action="decline", weight=300)
    since = last_event_id()

    result = api.score(**alice.move(amount=50_000, device_id="dev-9"))

    assert (result.decision, result.score, result.rules_fired) == ("decline", 300, (fired.code,))
    assert result.reasons[0] == {
        "type": "rule", "rule_id": fired.id, "code": fired.code, "version": 1, "kind": "amount_threshold",
        "action": "decline", "weight": 300, "detail": "50000 PHP ≥ 50000",
    }  # fmt: skip
    assert [name for name, _ in events(since)] == ["risk.rule_triggered", "risk.declined"]
    assert events(since)[0][1]["rule_code"] == fired.code
    assert not KnownCustomer.objects.filter(customer_id=alice.customer_id).exists()
    assert not KnownDevice.objects.filter(device_id="dev-9").exists()


def test_weights_add_up_and_the_thresholds_decide(customer, rule):
    services.settings_update(review_threshold=300, decline_threshold=500, dual_control_amounts={}, reason="test")
    rule("amount_threshold", {"currency": "PHP", "min_amount": 1_000}, action="score", weight=200)
    rule("amount_threshold", {"currency": "PHP", "min_amount": 5_000}, action="score", weight=150)
    rule("amount_threshold", {"currency": "PHP", "min_amount": 9_000}, action="score", weight=200)
    alice = customer()

    low, middle, high = (api.score(**alice.move(amount=amount)) for amount in (1_000, 5_000, 9_000))

    assert [(r.score, r.decision) for r in (low, middle, high)] == [(200, "approve"), (350, "review"), (550, "decline")]


def test_a_review_opens_a_case_and_says_so_in_its_event(customer, rule):
    rule("amount_threshold", {"currency": "PHP", "min_amount": 100_000}, action="review", weight=50)
    alice = customer()
    since = last_event_id()

    result = api.score(**alice.move(amount=150_000))

    case = ReviewCase.objects.get(public_id=result.case_id)
    assert (result.decision, result.case_status, case.status, case.amount) == ("review", "open", "open", 150_000)
    name, data = events(since)[-1]
    assert (name, data["case_id"], data["score"]) == ("risk.review_required", case.public_id, 50)
    assert api.review_case_get(case_id=case.public_id).assessment_id == result.id


def test_scoring_a_reference_again_replays_the_first_assessment_and_counts_once(customer, rule):
    rule("velocity", {"scope": "customer", "window_seconds": 3600, "max_count": 1})
    alice = customer()
    movement = alice.move()
    first = api.score(**movement)
    before = writes()

    again = api.score(**movement)

    assert (again.id, again.decision, again.replayed) == (first.id, "approve", True)
    assert writes() == before
    assert KnownCustomer.objects.get(customer_id=alice.customer_id).movements_count == 1


def test_a_reference_reused_for_another_movement_is_refused(customer):
    alice = customer()
    movement = alice.move()
    api.score(**movement)
    before = writes()

    with pytest.raises(Conflict) as refused:
        api.score(**{**movement, "amount": 99})

    assert refused.value.code == "reference_reused" and refused.value.errors[0].field == "reference"
    assert writes() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "XXX1"}, "currency"),
        ({"currency": "php"}, "currency"),
        ({"movement_type": "wire"}, "movement_type"),
        ({"channel": "fax"}, "channel"),
        ({"reference": ""}, "reference"),
        ({"reference": "r" * 201}, "reference"),
        ({"customer_id": None}, "customer_id"),
        ({"wallet_id": " wal_1"}, "wallet_id"),
        ({"ip_address": "300.1.1.1"}, "ip_address"),
        ({"ip_country": "Philippines"}, "ip_country"),
        ({"latitude": 91.0, "longitude": 0.0}, "latitude"),
        ({"latitude": 14.5}, "longitude"),
        ({"occurred_at": "2026-11-30T00:00:00"}, "occurred_at"),
        ({"occurred_at": timezone.now().replace(tzinfo=None)}, "occurred_at"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(customer, override, field):
    before = writes()

    with pytest.raises(InvalidInput) as refused:
        api.score(**customer().move(**override))

    assert refused.value.code == "validation_error"
    assert [error.field for error in refused.value.errors] == [field]
    assert writes() == before


def test_an_assessment_is_found_by_id_or_reference_and_an_unknown_one_is_not(customer):
    result = api.score(**customer().move())

    assert api.assessment_get(assessment_id=result.id).reference == result.reference
    assert api.assessment_get(reference=result.reference).id == result.id
    with pytest.raises(NotFound) as missing:
        api.assessment_get(assessment_id="rsk_unknown")
    assert missing.value.code == "assessment_not_found"


def test_a_label_is_recorded_and_audited(customer):
    result = api.score(**customer().move(occurred_at=timezone.now() - timedelta(days=3)))

    labelled = api.assessment_label(assessment_id=result.id, fraudulent=True, source="chargeback")

    stored = Assessment.objects.get(public_id=labelled.id)
    assert (stored.label, stored.label_source) == (True, "chargeback")
    with pytest.raises(NotFound):
        api.assessment_label(assessment_id="rsk_nope", fraudulent=False, source="chargeback")
    with pytest.raises(InvalidInput):
        api.assessment_label(assessment_id=result.id, fraudulent="yes", source="chargeback")
