"""Public face of fraud, for orchestration (contexts.products): scoring a money movement before
it posts, the review queue's state, and training labels. Keyword-only; frozen DTOs (dtos.py).

Errors are finfactory.errors with stable codes: InvalidInput `validation_error` naming the field,
NotFound `assessment_not_found` / `case_not_found`, Conflict `reference_reused`.
"""

from __future__ import annotations

from datetime import datetime

from finfactory.pages import Page

from . import scoring, selectors, services
from .dtos import AssessmentDTO, ReviewCaseDTO, RuleDTO


def score(
    *,
    reference: str,
    customer_id: str,
    wallet_id: str,
    movement_type: str,
    amount: int,
    currency: str,
    channel: str,
    occurred_at: datetime | None = None,
    counterparty: str = "",
    device_id: str = "",
    ip_address: str = "",
    ip_country: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    location_country: str = "",
) -> AssessmentDTO:
    """Score one movement of the current tenant before any money moves.

    `movement_type` cash_in | cash_out | transfer | qr_payment | card_payment; `channel` app |
    web | api | pos | agent | back_office; `amount` > 0 in minor units of `currency`;
    `occurred_at` defaults to now; `counterparty` (the other wallet, merchant or destination),
    device, IP address and country, and the device's location are used when given.

    Returns the decision (approve | review | decline), a score 0-1000 and the reasons. On
    review a case is open (`case_id`): keep the funds held until `risk.approved` or
    `risk.declined` (source "review") arrives. Scoring the same `reference` again returns the
    first assessment (`replayed`), and counts once towards velocity; the same reference for
    another movement → Conflict `reference_reused`.

    Events: `risk.rule_triggered` per rule fired, then one of `risk.approved`, `risk.declined`,
    `risk.review_required`, in the transaction of the assessment.
    """
    return scoring.movement_score(
        reference=reference,
        customer_id=customer_id,
        wallet_id=wallet_id,
        movement_type=movement_type,
        amount=amount,
        currency=currency,
        channel=channel,
        occurred_at=occurred_at,
        counterparty=counterparty,
        device_id=device_id,
        ip_address=ip_address,
        ip_country=ip_country,
        latitude=latitude,
        longitude=longitude,
        location_country=location_country,
    )


def assessment_get(*, assessment_id: str | None = None, reference: str | None = None) -> AssessmentDTO:
    """An assessment by its id or the caller's reference, with its review case's status."""
    return selectors.assessment_get(assessment_id=assessment_id, reference=reference)


def review_cases_list(*, status: str | None = "open", limit: int = 20, cursor: str | None = None) -> Page:
    """The review queue (Page of ReviewCaseDTO), newest first; status None lists every case."""
    return selectors.cases_list(status=status, limit=limit, cursor=cursor)


def review_case_get(*, case_id: str) -> ReviewCaseDTO:
    return selectors.case_dto(selectors.case_row(case_id))


def assessment_label(*, assessment_id: str, fraudulent: bool, source: str) -> AssessmentDTO:
    """Record what a scored movement turned out to be (e.g. source "chargeback"): a training
    label for fraud_train. Audited."""
    return services.assessment_label(assessment_id=assessment_id, fraudulent=fraudulent, source=source)


def default_rules_install(*, reason: str, params: dict[str, dict] | None = None) -> list[RuleDTO]:
    """Install the default rule pack (contexts/fraud/default_rules.py) on the current tenant: version
    1 of each rule whose code it does not have yet, tuned by `params` ({code: {param: value}}), e.g.
    a high-frequency product raising a velocity rule's `max_count`. Audited like any rule change.
    InvalidInput names the field (`params`, or a rule parameter)."""
    return services.default_rules_install(reason=reason, params=params)
