"""Identity's public face: the only module another context (the orchestration layer) imports.

Plain keyword-only functions taking and returning frozen DTOs (dtos.py), in the current tenant's
schema. Personal data goes in and comes out here in the clear; at rest it is encrypted, and
DTO reprs leave it out.

Errors are finfactory.errors exceptions with stable codes, each naming its field:
InvalidInput `validation_error` (bad input: field errors with codes such as `invalid_phone`,
`invalid_email`, `invalid_date`, `date_in_future`, `invalid_country`, `invalid_id_number`),
`invalid_cursor`; NotFound `customer_not_found`; Conflict `external_id_reused`,
`kyc_already_pending`, `kyc_already_verified`; BusinessRuleViolation `kyc_resubmission_limit`,
`id_number_in_use`. A refused call writes nothing.

Events (docs in README.md, contracts in events.py): customer.created, kyc.started,
kyc.verified, kyc.rejected, kyc.expired, risk.flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from finfactory.pages import Page

from . import callbacks, kyc, selectors, services
from .dtos import Address, CustomerDTO, KycStatusDTO

__all__ = [
    "Address",
    "CustomerDTO",
    "KycStatusDTO",
    "Page",
    "customer_create",
    "customer_get",
    "customer_level",
    "customer_list",
    "kyc_callback_handle",
    "kyc_status",
    "kyc_submit",
]


def customer_create(
    *,
    first_name: str,
    last_name: str,
    email: str,
    phone: str | None = None,
    birth_date: date | str | None = None,
    address: Address | dict | None = None,
    external_id: str | None = None,
) -> CustomerDTO:
    """Create a customer with KYC `not_started`, and screen the name against the watchlist.

    `phone` in E.164 (`+639171234567`), `birth_date` a date or `YYYY-MM-DD`, `address`
    `{line1, line2?, city, region?, postal_code?, country}` with an ISO 3166-1 alpha-2 country.
    `external_id` (the caller's id, unique per tenant) makes the call idempotent: the same data
    again returns the first customer with `replayed=True` and writes nothing; different data is
    refused with Conflict `external_id_reused`.

    Emits customer.created, and risk.flagged for each watchlist hit.
    """
    return services.customer_create(
        first_name=first_name, last_name=last_name, email=email, phone=phone, birth_date=birth_date,
        address=address, external_id=external_id,
    )  # fmt: skip


def customer_get(*, customer_id: str) -> CustomerDTO:
    """The customer, decrypted. NotFound customer_not_found (also for another tenant's id)."""
    return selectors.customer_get(customer_id)


def customer_list(
    *,
    external_id: str | None = None,
    phone: str | None = None,
    kyc_status: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Page:
    """Customers newest first, `limit` (1-100) at a time; pass `next_cursor` back for the next page.

    Filters are exact: `external_id`, `phone` (any spacing of the same E.164 number; matched
    through its blind index, nothing is decrypted), `kyc_status`. InvalidInput invalid_cursor,
    invalid_limit.
    """
    return selectors.customers_list(
        external_id=external_id, phone=phone, kyc_status=kyc_status, limit=limit, cursor=cursor
    )


def kyc_submit(*, customer_id: str, id_type: str, id_number: str, level: str = "full") -> KycStatusDTO:
    """Submit an identity document for verification at `level` (basic or full); returns `pending`.

    `id_type`: passport, national_id, drivers_license, tax_id or social_security; `id_number`
    4-40 letters and digits (spaces and dashes ignored). The tenant's provider answers
    asynchronously and the status becomes verified or rejected (sandbox: an id_number ending in
    0000 is rejected, any other verified within seconds). Calling again with the same document
    while it is pending or verified returns the status with `replayed=True`.

    Refusals: Conflict kyc_already_pending, kyc_already_verified; BusinessRuleViolation
    kyc_resubmission_limit (IDENTITY_KYC_MAX_RESUBMISSIONS after rejections), id_number_in_use
    (another customer's document); NotFound customer_not_found.

    Emits kyc.started (and risk.flagged for new watchlist hits); later kyc.verified or kyc.rejected.
    """
    return kyc.kyc_submit(customer_id=customer_id, id_type=id_type, id_number=id_number, level=level)


def kyc_status(*, customer_id: str) -> KycStatusDTO:
    """The customer's KYC case: status, level, attempts, resubmissions left, whether a risk flag
    holds it. NotFound customer_not_found."""
    return selectors.kyc_status(customer_id)


def customer_level(*, customer_id: str) -> str:
    """`none`, `basic` or `full`: the level the customer is verified for now (none unless the KYC
    status is verified). Wallet tiers follow it. NotFound customer_not_found."""
    return selectors.customer_level(customer_id)


def kyc_callback_handle(*, provider: str, headers: Mapping[str, str], body: bytes) -> KycStatusDTO | None:
    """Apply a KYC provider's signed callback (the raw body and its headers). Returns the status
    after it, or None for a decision deliberately ignored. Raises CallbackRejected (403
    invalid_callback_signature, stale_callback, missing_callback_signature), MalformedCallback
    (400 invalid_callback), NotFound; a refused callback writes nothing."""
    return callbacks.kyc_callback_handle(provider=provider, headers=headers, body=body)
