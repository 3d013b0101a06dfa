"""KYC expiry: a verification ends at its `expires_at` (the beat task tasks.expire_kyc), and the
customer's level drops to none (kyc.expired)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from finfactory.errors import Conflict
from finfactory.outbox.publish import publish

from . import locks, selectors
from .dtos import KycStatusDTO
from .kyc import audit_case, case_by_public_id, iso_utc
from .models import KycCase, KycLevel, KycStatus


def kyc_expire(*, kyc_id: str, actor: str | None = None) -> KycStatusDTO:
    """Expire a verified case whose expiry has passed. Conflict kyc_not_verified, kyc_not_due."""
    with transaction.atomic():
        locks.audit_chain()
        case = case_by_public_id(kyc_id)
        _expire(case, actor=actor)
    return selectors.kyc_status_dto(case)


def _expire(case: KycCase, *, actor) -> None:
    if case.status != KycStatus.VERIFIED:
        raise Conflict(f"The KYC case is {case.status}, not verified.", code="kyc_not_verified")
    if case.expires_at is None or case.expires_at > timezone.now():
        raise Conflict("The verification has not reached its expiry.", code="kyc_not_due")
    previous = case.level
    case.expire()
    case.save()
    publish(
        "kyc.expired",
        case.customer.public_id,
        {
            "customer_id": case.customer.public_id,
            "kyc_id": case.public_id,
            "level": KycLevel.NONE,
            "previous_level": previous,
            "expired_at": iso_utc(case.expired_at),
        },
    )
    audit_case(case, "kyc.expired", KycStatus.VERIFIED, actor, previous_level=previous)


def kyc_expire_due(*, limit: int = 500) -> int:
    """Expire the current tenant's verifications whose expiry has passed (the beat). Each case in
    its own transaction, skipping rows another expirer holds; returns how many expired."""
    expired = 0
    due = KycCase.objects.filter(status=KycStatus.VERIFIED, expires_at__lte=timezone.now()).values_list("pk", flat=True)
    for pk in list(due[:limit]):
        with transaction.atomic():
            locks.audit_chain()
            case = (
                KycCase.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("customer")
                .filter(pk=pk, status=KycStatus.VERIFIED)
                .first()
            )
            if case is None:
                continue
            _expire(case, actor="system:kyc_expiry")
            expired += 1
    return expired
