"""Reads: DTOs of assessments, review cases, rules and block list entries, and the settings row."""

from __future__ import annotations

from finfactory.errors import FieldError, InvalidInput, NotFound
from finfactory.pages import Page, keyset_page

from .dtos import AssessmentDTO, BlockListEntryDTO, ReviewCaseDTO, RuleDTO
from .models import Assessment, BlockListEntry, CaseStatus, FraudSettings, ReviewCase, Rule


def settings_get() -> FraudSettings:
    """The tenant's settings, created with the defaults on first use."""
    return FraudSettings.objects.get_or_create(pk=1)[0]


def _case(assessment: Assessment) -> ReviewCase | None:
    try:
        return assessment.case
    except ReviewCase.DoesNotExist:
        return None


NO_CASE = object()  # the caller knows the assessment has no case: do not look for one


def assessment_dto(assessment: Assessment, *, case=None, replayed: bool = False) -> AssessmentDTO:
    case = None if case is NO_CASE else case or _case(assessment)
    return AssessmentDTO(
        id=assessment.public_id,
        reference=assessment.reference,
        decision=assessment.decision,
        score=assessment.score,
        rules_score=assessment.rules_score,
        model_version=assessment.model_version,
        model_score=assessment.model_score,
        reasons=tuple(assessment.reasons),
        case_id=case.public_id if case else None,
        case_status=case.status if case else None,
        occurred_at=assessment.occurred_at,
        replayed=replayed,
    )


def case_dto(case: ReviewCase) -> ReviewCaseDTO:
    return ReviewCaseDTO(
        id=case.public_id,
        assessment_id=case.assessment.public_id,
        reference=case.assessment.reference,
        status=case.status,
        amount=case.amount,
        currency=case.currency,
        opened_at=case.opened_at,
        decided_at=case.decided_at,
        decided_by=case.decided_by,
        approval_id=case.approval_id or None,
    )


def rule_dto(rule: Rule) -> RuleDTO:
    return RuleDTO(
        id=rule.public_id,
        code=rule.code,
        version=rule.version,
        name=rule.name,
        kind=rule.kind,
        params=dict(rule.params),
        action=rule.action,
        weight=rule.weight,
        enabled=rule.enabled,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
    )


def block_dto(entry: BlockListEntry) -> BlockListEntryDTO:
    return BlockListEntryDTO(
        id=entry.public_id,
        kind=entry.kind,
        value=entry.value,
        reason=entry.reason,
        expires_at=entry.expires_at,
        removed=entry.removed_at is not None,
    )


def _not_found(field: str, what: str, code: str) -> NotFound:
    return NotFound(f"No {what} with this id.", code=code, errors=[FieldError(field, "Not found.", code)])


def assessment_get(*, assessment_id: str | None = None, reference: str | None = None) -> AssessmentDTO:
    query = {"public_id": assessment_id} if assessment_id is not None else {"reference": reference}
    found = Assessment.objects.filter(**query).select_related("case").first() if any(query.values()) else None
    if found is None:
        raise _not_found(
            "assessment_id" if assessment_id is not None else "reference", "assessment", "assessment_not_found"
        )
    return assessment_dto(found)


def case_row(case_id: object, *, lock: bool = False) -> ReviewCase:
    rows = ReviewCase.objects.select_related("assessment")
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = rows.filter(public_id=case_id).first() if isinstance(case_id, str) else None
    if found is None:
        raise _not_found("case_id", "review case", "case_not_found")
    return found


def cases_list(*, status: str | None = CaseStatus.OPEN, limit: int = 20, cursor: str | None = None) -> Page:
    """The review queue, newest first (all cases when status is None)."""
    rows = ReviewCase.objects.select_related("assessment")
    if status is not None and status not in CaseStatus.values:
        raise InvalidInput(
            "status is not a case status.",
            errors=[FieldError("status", f"One of: {', '.join(CaseStatus.values)}.", "invalid_choice")],
        )
    if status is not None:
        rows = rows.filter(status=status)
    return keyset_page(rows, limit=limit, cursor=cursor, kind=f"fraud_cases_{status or 'all'}", item=case_dto)


def rules_list(*, code: str | None = None) -> list[RuleDTO]:
    """Every version of every rule (or of one), newest version first."""
    rows = Rule.objects.all() if code is None else Rule.objects.filter(code=code)
    return [rule_dto(rule) for rule in rows.order_by("code", "-version")]


def decision_payload(assessment: Assessment, *, source: str, case: ReviewCase | None) -> dict:
    """`data` of risk.approved / risk.declined / risk.review_required: of the scoring's decision
    (source "scoring") or of a reviewer's (source "review")."""
    return {
        "assessment_id": assessment.public_id,
        "reference": assessment.reference,
        "customer_id": assessment.customer_id,
        "wallet_id": assessment.wallet_id,
        "movement_type": assessment.movement_type,
        "amount": assessment.amount,
        "currency": assessment.currency,
        "score": assessment.score,
        "model_version": assessment.model_version,
        "model_score": assessment.model_score,
        "rules": [reason["code"] for reason in assessment.reasons if reason["type"] == "rule"],
        "source": source,
        "case_id": case.public_id if case else None,
    }
