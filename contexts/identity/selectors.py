"""Reads. Decrypted values leave this module only inside DTOs."""

from __future__ import annotations

from django.conf import settings

from finfactory.errors import FieldError, NotFound
from finfactory.pages import Page, keyset_page

from . import validation
from .dtos import Address, CustomerDTO, KycStatusDTO
from .models import Customer, KycCase, KycLevel, KycStatus, RiskFlag, RiskFlagStatus


def customer_dto(customer: Customer, case: KycCase, *, replayed: bool = False) -> CustomerDTO:
    return CustomerDTO(
        id=customer.public_id,
        external_id=customer.external_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        email=customer.email,
        phone=customer.phone,
        birth_date=customer.birth_date,
        address=Address(**customer.address) if customer.address else None,
        kyc_status=str(case.status),
        kyc_level=current_level(case),
        created_at=customer.created_at,
        replayed=replayed,
    )


def current_level(case: KycCase) -> str:
    return str(case.level) if case.status == KycStatus.VERIFIED else str(KycLevel.NONE)


def resubmissions_left(case: KycCase) -> int:
    """Submissions still allowed after a rejection: IDENTITY_KYC_MAX_RESUBMISSIONS, less the
    rejections since the last verification beyond the first."""
    allowed = settings.IDENTITY_KYC_MAX_RESUBMISSIONS
    return min(allowed, max(0, allowed + 1 - case.rejections))


def has_open_flags(customer_pk: int) -> bool:
    return RiskFlag.objects.filter(customer_id=customer_pk, status=RiskFlagStatus.OPEN).exists()


def kyc_status_dto(case: KycCase, *, replayed: bool = False) -> KycStatusDTO:
    submission = case.current_submission
    return KycStatusDTO(
        customer_id=case.customer.public_id,
        kyc_id=case.public_id,
        status=str(case.status),
        level=current_level(case),
        attempts=case.attempts,
        rejections=case.rejections,
        resubmissions_left=resubmissions_left(case),
        blocked_by_risk=case.status == KycStatus.PENDING and has_open_flags(case.customer_id),
        submission_id=submission.public_id if submission else None,
        submitted_at=case.submitted_at,
        verified_at=case.verified_at,
        expires_at=case.expires_at,
        rejection_reason=case.rejection_reason,
        replayed=replayed,
    )


def customer_row(customer_id: object, *, field: str = "customer_id") -> Customer:
    """The customer with this public id in the current tenant, or 404 customer_not_found."""
    customer_id = validation.public_id(customer_id, field, "cus")
    customer = Customer.objects.filter(public_id=customer_id).first()
    if customer is None:
        raise NotFound(
            "No such customer.", code="customer_not_found", errors=[FieldError(field, "No such customer.", "not_found")]
        )
    return customer


def case_of(customer: Customer) -> KycCase:
    return KycCase.objects.select_related("customer", "current_submission").get(customer_id=customer.pk)


def customer_get(customer_id: str) -> CustomerDTO:
    customer = customer_row(customer_id)
    return customer_dto(customer, case_of(customer))


def kyc_status(customer_id: str) -> KycStatusDTO:
    return kyc_status_dto(case_of(customer_row(customer_id)))


def customer_level(customer_id: str) -> str:
    case = KycCase.objects.only("status", "level").get(customer_id=customer_row(customer_id).pk)
    return current_level(case)


def customers_list(
    *,
    external_id: str | None = None,
    phone: str | None = None,
    kyc_status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Customers newest first, a page at a time (a cursor on the row id: stable under inserts).

    `phone` is matched exactly through its blind index, whatever its spacing.
    """
    queryset = Customer.objects.all()
    if external_id is not None:
        queryset = queryset.filter(external_id=validation.external_id(external_id))
    if phone is not None:
        index = Customer._meta.get_field("phone_index").index_of(validation.phone(phone))
        queryset = queryset.filter(phone_index=index)
    if kyc_status is not None:
        if kyc_status not in KycStatus.values:
            raise validation.invalid("kyc_status", f"Must be one of {', '.join(KycStatus.values)}.", "invalid_choice")
        queryset = queryset.filter(kyc_case__status=kyc_status)
    return keyset_page(
        queryset.select_related("kyc_case"),
        limit=limit, cursor=cursor, kind="cus", item=lambda row: customer_dto(row, row.kyc_case),
    )  # fmt: skip
