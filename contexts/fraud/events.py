"""Events fraud publishes (through the outbox, in the transaction of the decision). Ids, amounts,
scores and rule codes only. Consumers subscribe by name and must not import this module.

Every decision on a scored movement is one of `risk.approved`, `risk.declined` or
`risk.review_required` (aggregate: the assessment); an operator's decision on a review case is a
second `risk.approved` or `risk.declined` of the same assessment with `source: "review"`, which is
what orchestration waits for to capture or release the funds it holds. Each rule that fired is
also announced on its own (`risk.rule_triggered`), for monitoring a rule's hit rate.
"""

from finfactory.events.catalog import EventType
from finfactory.events.schema import CURRENCY, strict_object

_ASSESSMENT_ID = {"type": "string", "pattern": "^rsk_[0-9a-z]{26}$"}
_CASE_ID = {"type": ["string", "null"], "pattern": "^rev_[0-9a-z]{26}$"}
_ID = {"type": "string", "minLength": 1, "maxLength": 40}
_REFERENCE = {"type": "string", "minLength": 1, "maxLength": 200}
_SCORE = {"type": "integer", "minimum": 0, "maximum": 1000}
_NULLABLE_SCORE = {"type": ["integer", "null"], "minimum": 0, "maximum": 1000}
_MOVEMENT_TYPE = {"enum": ["cash_in", "cash_out", "transfer", "qr_payment", "card_payment"]}

_DECISION = {
    "assessment_id": _ASSESSMENT_ID,
    "reference": _REFERENCE,
    "customer_id": _ID,
    "wallet_id": _ID,
    "movement_type": _MOVEMENT_TYPE,
    "amount": {"type": "integer", "minimum": 1},
    "currency": CURRENCY,
    "score": _SCORE,
    "model_version": {"type": ["integer", "null"], "minimum": 1},
    "model_score": _NULLABLE_SCORE,
    "rules": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 60}},
    "source": {"enum": ["scoring", "review"]},
    "case_id": _CASE_ID,
}


def _decision(name: str, description: str) -> EventType:
    return EventType(
        name=name, version=1, aggregate_type="risk_assessment", description=description, schema=strict_object(_DECISION)
    )


RISK_APPROVED = _decision(
    "risk.approved",
    "A movement may proceed: approved by the scoring, or by an operator after review (source: review).",
)
RISK_DECLINED = _decision(
    "risk.declined",
    "A movement must not proceed (error code risk_declined): by the scoring, or by an operator after review.",
)
RISK_REVIEW_REQUIRED = _decision(
    "risk.review_required",
    "A movement waits for an operator: its funds stay held and a review case (case_id) is open.",
)
RISK_RULE_TRIGGERED = EventType(
    name="risk.rule_triggered",
    version=1,
    aggregate_type="risk_assessment",
    description="One rule fired while scoring a movement (one event per rule).",
    schema=strict_object(
        {
            "assessment_id": _ASSESSMENT_ID,
            "reference": _REFERENCE,
            "rule_id": {"type": "string", "pattern": "^rul_[0-9a-z]{26}$"},
            "rule_code": {"type": "string", "minLength": 1, "maxLength": 60},
            "rule_version": {"type": "integer", "minimum": 1},
            "kind": {"enum": ["amount_threshold", "velocity", "new_device", "geo_mismatch", "block_list"]},
            "action": {"enum": ["decline", "review", "score"]},
            "weight": _SCORE,
            "detail": {"type": "string", "maxLength": 500},
        }
    ),
)

EVENTS = [RISK_APPROVED, RISK_DECLINED, RISK_REVIEW_REQUIRED, RISK_RULE_TRIGGERED]
