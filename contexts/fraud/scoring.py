"""Scoring a movement: rules and model, one decision, one transaction.

    1. the movement is checked (InvalidInput naming the field) and a known reference is replayed
       without any lock;
    2. under the movement's velocity locks (history.velocity_locks): the history, the rules in
       force, the block list, the models in force (active and shadow);
    3. the decision: decline if a declining rule fired or the score reaches the decline
       threshold; review if a reviewing rule fired or the score reaches the review threshold;
       approve otherwise. The shadow model's decision is computed the same way and only logged;
    4. written together: the assessment (with the feature vector the model saw), the customer's
       running totals and device, a review case, and the events.

Nothing here takes the tenant's audit lock: scoring is the hot path of every money movement, and
the assessment itself is its record.
"""

from __future__ import annotations

import hashlib
import json

import structlog
from django.db import IntegrityError, connection, transaction

from finfactory.errors import Conflict, FieldError
from finfactory.outbox.publish import publish_many

from . import history, rules, scoring_model, validation
from .dtos import AssessmentDTO
from .features import feature_vector
from .models import Assessment, Decision, ReviewCase, RuleAction
from .selectors import NO_CASE, assessment_dto, decision_payload

logger = structlog.get_logger(__name__)

DECISION_EVENTS = {
    Decision.APPROVE: "risk.approved",
    Decision.DECLINE: "risk.declined",
    Decision.REVIEW: "risk.review_required",
}


def _fingerprint(movement: validation.Movement) -> str:
    fields = {**movement.__dict__, "occurred_at": None}  # the time defaults to "now": not part of the request
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


def _replay(reference: str, fingerprint: str) -> AssessmentDTO | None:
    with connection.cursor() as cursor:  # the common case, no such reference, in one cheap lookup
        cursor.execute("SELECT fingerprint FROM fraud_assessment WHERE reference = %s", [reference])
        found = cursor.fetchone()
    if found is None:
        return None
    if found[0] != fingerprint:
        raise Conflict(
            "This reference was scored for another movement.",
            code="reference_reused",
            errors=[FieldError("reference", "Already used for another movement.", "reference_reused")],
        )
    return assessment_dto(Assessment.objects.select_related("case").get(reference=reference), replayed=True)


def _decide(score: int, fired: list[rules.Fired], facts: history.Facts) -> str:
    actions = {hit.rule.action for hit in fired}
    if RuleAction.DECLINE in actions or score >= facts.decline_threshold:
        return Decision.DECLINE
    if RuleAction.REVIEW in actions or score >= facts.review_threshold:
        return Decision.REVIEW
    return Decision.APPROVE


def _record_customer(movement: validation.Movement) -> None:
    """The customer's running totals (not declined movements) and the device they used."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fraud_knowncustomer (customer_id, kyc_level, movements_count, movements_amount, synthetic, "
            "updated_at) VALUES (%s, 'none', 1, %s, false, now()) ON CONFLICT (customer_id) DO UPDATE SET "
            "movements_count = fraud_knowncustomer.movements_count + 1, "
            "movements_amount = fraud_knowncustomer.movements_amount + EXCLUDED.movements_amount, updated_at = now()",
            [movement.customer_id, movement.amount],
        )
        if movement.device_id:
            cursor.execute(
                "INSERT INTO fraud_knowndevice (customer_id, device_id, first_seen_at, last_seen_at) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (customer_id, device_id) DO UPDATE SET "
                "last_seen_at = greatest(fraud_knowndevice.last_seen_at, EXCLUDED.last_seen_at)",
                [movement.customer_id, movement.device_id, movement.occurred_at, movement.occurred_at],
            )


def _events(assessment: Assessment, fired: list[rules.Fired], case: ReviewCase | None) -> list[tuple]:
    events = [
        (
            "risk.rule_triggered",
            assessment.public_id,
            {
                "assessment_id": assessment.public_id,
                "reference": assessment.reference,
                "rule_id": hit.rule.public_id,
                "rule_code": hit.rule.code,
                "rule_version": hit.rule.version,
                "kind": hit.rule.kind,
                "action": hit.rule.action,
                "weight": hit.rule.weight,
                "detail": hit.detail,
            },
        )
        for hit in fired
    ]
    events.append(
        (
            DECISION_EVENTS[assessment.decision],
            assessment.public_id,
            decision_payload(assessment, source="scoring", case=case),
        )
    )
    return events


def movement_score(**movement_fields) -> AssessmentDTO:
    """Score a movement (the fields of validation.movement); see api.score for the contract."""
    movement = validation.movement(**movement_fields)
    fingerprint = _fingerprint(movement)
    try:
        with transaction.atomic():
            history.velocity_locks(movement)
            # Under the reference's lock: a retry, or a twin that won while we waited, is answered
            # with the first assessment.
            replayed = _replay(movement.reference, fingerprint)
            if replayed is not None:
                return replayed
            return _score_locked(movement, fingerprint)
    except IntegrityError:
        # A twin under another customer's locks (the same reference for another movement) won.
        replayed = _replay(movement.reference, fingerprint)
        if replayed is None:
            raise
        return replayed


def _score_locked(movement: validation.Movement, fingerprint: str) -> AssessmentDTO:
    in_force = rules.rules_in_force(movement.occurred_at)
    facts = history.facts_gather(movement, rules.windows_needed(in_force, movement))
    fired = rules.rules_evaluate(in_force, movement, facts)
    vector = feature_vector(history.feature_inputs(movement, facts, geo_mismatch=rules.geo_mismatch(movement)))
    active, shadow = scoring_model.models_in_force()
    rules_score = min(1000, sum(hit.rule.weight for hit in fired))
    reasons = [hit.as_reason() for hit in fired]
    model_prediction = active.predict(vector) if active else None
    if model_prediction is not None:
        reasons.append(
            {
                "type": "model",
                "version": model_prediction.version,
                "score": model_prediction.score,
                "top_features": list(model_prediction.top_features),
            }
        )
    score = min(1000, rules_score + (model_prediction.score if model_prediction else 0))
    decision = _decide(score, fired, facts)
    shadow_prediction = shadow.predict(vector) if shadow else None
    shadow_decision = ""
    if shadow_prediction is not None:
        shadow_decision = _decide(min(1000, rules_score + shadow_prediction.score), fired, facts)
        logger.info(
            "fraud.shadow_scored",
            reference=movement.reference,
            shadow_version=shadow_prediction.version,
            shadow_score=shadow_prediction.score,
            shadow_decision=shadow_decision,
            decision=decision,
        )
    assessment = Assessment.objects.create(
        reference=movement.reference,
        fingerprint=fingerprint,
        customer_id=movement.customer_id,
        wallet_id=movement.wallet_id,
        movement_type=movement.movement_type,
        amount=movement.amount,
        currency=movement.currency,
        counterparty=movement.counterparty,
        channel=movement.channel,
        device_id=movement.device_id,
        ip_address=movement.ip_address,
        ip_country=movement.ip_country,
        latitude=movement.latitude,
        longitude=movement.longitude,
        location_country=movement.location_country,
        occurred_at=movement.occurred_at,
        decision=decision,
        score=score,
        rules_score=rules_score,
        model_version=model_prediction.version if model_prediction else None,
        model_score=model_prediction.score if model_prediction else None,
        shadow_version=shadow_prediction.version if shadow_prediction else None,
        shadow_score=shadow_prediction.score if shadow_prediction else None,
        shadow_decision=shadow_decision,
        reasons=reasons,
        features=vector,
    )
    if decision != Decision.DECLINE:
        _record_customer(movement)
    case = None
    if decision == Decision.REVIEW:
        case = ReviewCase.objects.create(assessment=assessment, amount=movement.amount, currency=movement.currency)
    publish_many(_events(assessment, fired, case))
    return assessment_dto(assessment, case=case or NO_CASE)
