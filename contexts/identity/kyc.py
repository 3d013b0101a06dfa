"""The KYC lifecycle (writes): submissions, provider decisions, holds. Expiry is in expiry.py.

Every transition locks the customer's KYC case row first (`SELECT … FOR UPDATE`) and checks the
transition before writing anything, so a refusal writes nothing and two racing calls make one
transition (the second sees the first's result). KycCase's ConcurrentTransitionMixin refuses a
save whose status moved since it was read, as a second guard. Each transition publishes its
event and appends its audit record in the same transaction.

Transitions and refusals (code):

    from \\ to    submit                      verify / reject        expire
    not_started  → pending                   kyc_not_pending        kyc_not_verified
    pending      kyc_already_pending         → verified | rejected  kyc_not_verified
    verified     kyc_already_verified        kyc_not_pending        → expired (kyc_not_due before expires_at)
    rejected     → pending while resubmissions remain, else kyc_resubmission_limit
                                             kyc_not_pending        kyc_not_verified
    expired      → pending (renewal)         kyc_not_pending        kyc_not_verified

Lock order: locks.py (the tenant's audit-chain lock, then the case row, then an ID number).

A verification while the customer has an open risk flag is held: the submission records the
provider's answer, the case stays pending, and it becomes verified when the last flag is cleared.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from finfactory.audit.services import audit_record
from finfactory.errors import BusinessRuleViolation, Conflict, FieldError, NotFound
from finfactory.outbox.publish import publish

from . import dispatch, locks, risk, selectors, validation
from .adapters import provider_get, provider_name_for_tenant
from .adapters.base import REJECTED, VERIFIED, Decision, ProviderRefused, SubmissionRequest
from .dtos import KycStatusDTO
from .models import Customer, KycCase, KycLevel, KycStatus, KycSubmission, SubmissionStatus

logger = structlog.get_logger(__name__)

TARGET = "kyc_case"
REASON_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


def case_by_public_id(kyc_id: object) -> KycCase:
    kyc_id = validation.public_id(kyc_id, "kyc_id", "kyc")
    case = KycCase.objects.filter(public_id=kyc_id).only("pk").first()
    if case is None:
        raise NotFound("No such KYC case.", code="kyc_not_found", errors=[FieldError("kyc_id", "No such KYC case.")])
    return locks.case(case_pk=case.pk)


def audit_case(case: KycCase, action: str, before: str, actor: str | None, **after) -> None:
    audit_record(
        action=action,
        target_type=TARGET,
        target_id=case.public_id,
        before={"status": before},
        after={"status": case.status, "customer_id": case.customer.public_id, **after},
        actor=actor,
    )


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- Submitting ---------------------------------------------------------------------------------


def _refuse_submit(case: KycCase) -> None:
    if case.status == KycStatus.PENDING:
        raise Conflict("A KYC submission is already pending.", code="kyc_already_pending")
    if case.status == KycStatus.VERIFIED:
        raise Conflict("The customer is already verified.", code="kyc_already_verified")
    if case.status == KycStatus.REJECTED and selectors.resubmissions_left(case) == 0:
        raise BusinessRuleViolation(
            "The customer has used every resubmission allowed after a rejection.", code="kyc_resubmission_limit"
        )


def _require_id_number_unused(customer: Customer, index: str) -> None:
    """One identity document, one customer: the blind index finds it without decrypting.

    Two customers submitting the same number at once each hold only their own case's lock, so
    the check is serialised per number (locks.id_number).
    """
    locks.id_number(index)
    taken = (
        KycSubmission.objects.filter(
            id_number_index=index,
            status__in=[SubmissionStatus.PENDING, SubmissionStatus.HELD, SubmissionStatus.VERIFIED],
        )
        .exclude(case__customer_id=customer.pk)
        .exists()
    )
    if taken:
        raise BusinessRuleViolation(
            "This ID number is already used by another customer.",
            code="id_number_in_use",
            errors=[FieldError("id_number", "Already used by another customer.", "id_number_in_use")],
        )


def kyc_submit(
    *, customer_id: str, id_type: str, id_number: str, level: str = KycLevel.FULL, actor: str | None = None
) -> KycStatusDTO:
    id_type = validation.id_type(id_type)
    number = validation.id_number(id_number)
    level = validation.level(level)
    index = KycSubmission._meta.get_field("id_number_index").index_of(number)
    with transaction.atomic():
        locks.audit_chain()
        customer = selectors.customer_row(customer_id)
        case = locks.case(customer_pk=customer.pk)
        current = case.current_submission
        same_request = current is not None and (current.id_type, current.id_number_index, current.requested_level) == (
            id_type, index, level
        )  # fmt: skip
        if same_request and case.status in (KycStatus.PENDING, KycStatus.VERIFIED):
            return selectors.kyc_status_dto(case, replayed=True)  # a retry of the call that made it
        _refuse_submit(case)
        _require_id_number_unused(customer, index)
        before = case.status
        submission = KycSubmission.objects.create(
            case=case,
            number=case.attempts + 1,
            id_type=id_type,
            id_number=number,
            requested_level=level,
            provider=provider_name_for_tenant(),
        )
        case.submit(submission=submission)
        case.save()
        publish(
            "kyc.started",
            customer.public_id,
            {
                "customer_id": customer.public_id,
                "kyc_id": case.public_id,
                "submission_id": submission.public_id,
                "attempt": submission.number,
                "requested_level": level,
                "provider": submission.provider,
            },
        )
        risk.screen_customer(customer, actor=actor)
        audit_case(
            case, "kyc.submitted", before, actor, submission_id=submission.public_id, attempt=submission.number,
            id_type=id_type, requested_level=level, provider=submission.provider,
        )  # fmt: skip
        dispatch.send_submission_after_commit(submission.public_id)
    return selectors.kyc_status_dto(case)


def kyc_submission_send(*, submission_id: str) -> str:
    """Hand a pending submission to its provider (the send_submission task; outside any
    transaction: the provider may take seconds). Returns what happened: sent, decided, skipped.

    ProviderUnavailable propagates (the task retries); a provider that refuses the request for
    good rejects the submission (`provider_refused`).
    """
    submission = KycSubmission.objects.select_related("case__customer").filter(public_id=submission_id).first()
    if submission is None or submission.status != SubmissionStatus.PENDING or submission.sent_at is not None:
        return "skipped"
    customer = submission.case.customer
    provider = provider_get(submission.provider)
    request = SubmissionRequest(
        reference=submission.public_id,
        id_type=submission.id_type,
        level=submission.requested_level,
        id_number=submission.id_number,
        first_name=customer.first_name,
        last_name=customer.last_name,
        birth_date=customer.birth_date,
        country=(customer.address or {}).get("country"),
    )
    try:
        result = provider.submit(request)
    except ProviderRefused:
        kyc_decision_apply(
            provider=submission.provider,
            decision=Decision(submission_id=submission.public_id, outcome=REJECTED, reason="provider_refused"),
        )
        return "decided"
    with transaction.atomic():
        locks.audit_chain()
        sent = KycSubmission.objects.filter(pk=submission.pk, sent_at__isnull=True).update(
            provider_reference=result.provider_reference, sent_at=timezone.now()
        )
        if sent:
            audit_record(
                action="kyc.sent_to_provider",
                target_type=TARGET,
                target_id=submission.case.public_id,
                after={"submission_id": submission.public_id, "provider": submission.provider,
                       "provider_reference": result.provider_reference},
            )  # fmt: skip
    if result.decision is not None:
        kyc_decision_apply(provider=submission.provider, decision=result.decision)
        return "decided"
    return "sent"


# --- Decisions ----------------------------------------------------------------------------------


def _expiry(expires_on) -> datetime:
    """The verification's expiry: the validity period, or the document's expiry if sooner."""
    validity = timezone.now() + timedelta(days=settings.IDENTITY_KYC_VALIDITY_DAYS)
    if expires_on is None:
        return validity
    return min(validity, datetime(expires_on.year, expires_on.month, expires_on.day, tzinfo=UTC))


def _require_pending(case: KycCase) -> KycSubmission:
    if case.status != KycStatus.PENDING or case.current_submission is None:
        raise Conflict(f"The KYC case is {case.status}, not pending.", code="kyc_not_pending")
    return case.current_submission


def _verify(case: KycCase, submission: KycSubmission, *, level: str, expires_at: datetime, actor) -> None:
    risk.screen_customer(case.customer, actor=actor)
    if selectors.has_open_flags(case.customer_id):
        if submission.status == SubmissionStatus.PENDING:
            submission.hold(level=level, expires_at=expires_at)
            submission.save()
            audit_record(
                action="kyc.verification_held",
                target_type=TARGET,
                target_id=case.public_id,
                after={"status": case.status, "submission_id": submission.public_id, "reason": "open_risk_flag"},
                actor=actor,
            )
        return
    submission.verify(level=level, expires_at=expires_at)
    submission.save()
    before = case.status
    case.verify(level=level, expires_at=expires_at)
    case.save()
    publish(
        "kyc.verified",
        case.customer.public_id,
        {
            "customer_id": case.customer.public_id,
            "kyc_id": case.public_id,
            "submission_id": submission.public_id,
            "level": level,
            "verified_at": iso_utc(case.verified_at),
            "expires_at": iso_utc(expires_at),
        },
    )
    audit_case(case, "kyc.verified", before, actor, submission_id=submission.public_id, level=level,
           expires_at=iso_utc(expires_at))  # fmt: skip


def _reject(case: KycCase, submission: KycSubmission, *, reason: str, actor) -> None:
    submission.reject(reason=reason)
    submission.save()
    before = case.status
    case.reject(reason=reason)
    case.save()
    left = selectors.resubmissions_left(case)
    publish(
        "kyc.rejected",
        case.customer.public_id,
        {
            "customer_id": case.customer.public_id,
            "kyc_id": case.public_id,
            "submission_id": submission.public_id,
            "attempt": submission.number,
            "reason": reason,
            "resubmissions_left": left,
        },
    )
    audit_case(case, "kyc.rejected", before, actor, submission_id=submission.public_id, reason=reason,
           resubmissions_left=left)  # fmt: skip


def _reason(value: object) -> str:
    """A snake_case reason code (events carry it; free text could carry personal data)."""
    if not isinstance(value, str) or not REASON_CODE.match(value):
        raise validation.invalid("reason", "Must be a snake_case code such as document_rejected.", "invalid_reason")
    return value


def kyc_verify(
    *, kyc_id: str, level: str, expires_at: datetime | None = None, actor: str | None = None
) -> KycStatusDTO:
    """Verify a pending case (its current submission) at `level`. Conflict kyc_not_pending."""
    level = validation.level(level)
    with transaction.atomic():
        locks.audit_chain()
        case = case_by_public_id(kyc_id)
        submission = _require_pending(case)
        _verify(case, submission, level=level, expires_at=expires_at or _expiry(None), actor=actor)
    return selectors.kyc_status_dto(case)


def kyc_reject(*, kyc_id: str, reason: str, actor: str | None = None) -> KycStatusDTO:
    """Reject a pending case (its current submission). Conflict kyc_not_pending."""
    reason = _reason(reason)
    with transaction.atomic():
        locks.audit_chain()
        case = case_by_public_id(kyc_id)
        submission = _require_pending(case)
        _reject(case, submission, reason=reason, actor=actor)
    return selectors.kyc_status_dto(case)


def kyc_decision_apply(*, provider: str, decision: Decision, actor: str | None = None) -> KycStatusDTO:
    """Apply a provider's decision about one of its submissions, at most once.

    The same decision again is a replay (`replayed=True`, nothing written); a different decision
    about a decided submission is refused (Conflict decision_conflict), as is a decision about a
    submission the provider was not given (NotFound submission_not_found).
    """
    actor = actor or f"system:kyc_provider:{provider}"
    with transaction.atomic():
        locks.audit_chain()
        found = (
            KycSubmission.objects.filter(public_id=decision.submission_id, provider=provider).only("case_id").first()
        )
        if found is None:
            raise NotFound("No such submission for this provider.", code="submission_not_found")
        case = locks.case(case_pk=found.case_id)
        submission = KycSubmission.objects.get(pk=found.pk)
        if (
            decision.provider_reference
            and submission.provider_reference
            and decision.provider_reference != submission.provider_reference
        ):
            raise Conflict(
                "The decision is about another check of this submission.", code="provider_reference_mismatch"
            )
        if submission.status != SubmissionStatus.PENDING:
            already = VERIFIED if submission.status in (SubmissionStatus.HELD, SubmissionStatus.VERIFIED) else REJECTED
            if already == decision.outcome:
                return selectors.kyc_status_dto(case, replayed=True)
            raise Conflict("The submission was already decided otherwise.", code="decision_conflict")
        if case.current_submission_id != submission.pk or case.status != KycStatus.PENDING:
            raise Conflict("The submission is no longer the case's current one.", code="submission_superseded")
        if decision.outcome == VERIFIED:
            level = validation.level(decision.level or submission.requested_level)
            expires_at = _expiry(decision.expires_on)
            if expires_at <= timezone.now():
                _reject(case, submission, reason="document_expired", actor=actor)
            else:
                _verify(case, submission, level=level, expires_at=expires_at, actor=actor)
        else:
            _reject(case, submission, reason=_reason(decision.reason), actor=actor)
    return selectors.kyc_status_dto(case)


def kyc_verification_release(*, customer_pk: int, actor: str | None = None) -> bool:
    """Complete a verification held by risk flags once none is open (the clearance handler calls
    this in its transaction). True if the customer became verified."""
    locks.audit_chain()
    case = locks.case(customer_pk=customer_pk)
    submission = case.current_submission
    if case.status != KycStatus.PENDING or submission is None or submission.status != SubmissionStatus.HELD:
        return False
    if selectors.has_open_flags(customer_pk):
        return False
    _verify(case, submission, level=submission.decided_level, expires_at=submission.decided_expires_at, actor=actor)
    return case.status == KycStatus.VERIFIED
