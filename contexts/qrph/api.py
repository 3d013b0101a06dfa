"""QR Ph's public face: the only module another context (the orchestration layer) imports.

Keyword-only functions taking and returning frozen DTOs (dtos.py); amounts are integers in
centavos next to the currency. Errors are finfactory.errors exceptions with stable codes, and
every refusal writes nothing (no row, event or audit record). A malformed code raises 422
`invalid_qr` whose one FieldError names the tag (`tag_54`, `tag_28.01`, `payload`) and carries
the sub-code (README: bad_format, bad_length, bad_value, missing_tag, duplicate_tag, bad_crc,
and for payments not_qrph, unknown_merchant, unknown_code).

qrph never moves money and imports no other context: orchestration settles on-us payments
through the ledger and reports back with `qr_payment_confirm` / `qr_payment_fail`.
"""

from __future__ import annotations

from datetime import datetime

from . import images, payments, selectors, services, validation
from .codec import qr_payload_decode
from .dtos import (
    DecodedQr,
    LanguageTemplate,
    MerchantAccount,
    MerchantProfileDTO,
    QrCodeDTO,
    QrImageDTO,
    QrPaymentDTO,
    QrSettingsDTO,
)
from .errors import InvalidQr

__all__ = [
    "DecodedQr",
    "InvalidQr",
    "LanguageTemplate",
    "MerchantAccount",
    "MerchantProfileDTO",
    "QrCodeDTO",
    "QrImageDTO",
    "QrPaymentDTO",
    "QrSettingsDTO",
    "merchant_profile_create",
    "merchant_profile_for_wallet",
    "merchant_profile_get",
    "merchant_profile_update",
    "qr_code_get",
    "qr_decode",
    "qr_generate",
    "qr_image",
    "qr_payment_confirm",
    "qr_payment_fail",
    "qr_payment_initiate",
    "qr_payment_status",
    "qrph_settings_get",
    "qrph_settings_update",
]  # fmt: skip


def qrph_settings_get() -> QrSettingsDTO:
    """The tenant's acquirer BIC and network adapter, created with the sandbox defaults on first
    use (BIC: QRPH_SANDBOX_BIC_PREFIX + a branch code derived from the tenant; QRPH_NETWORK)."""
    return selectors.settings_dto(services.settings_row())


def qrph_settings_update(*, bic: str | None = None, network: str | None = None, reason: str) -> QrSettingsDTO:
    """Change the tenant's BIC and/or network. Codes issued before keep the BIC they carry (and
    are then off-us). Errors: 400 `validation_error` (bic, network, reason).
    Audit: `qrph_settings.updated` (if anything changed)."""
    return services.qrph_settings_update(bic=bic, network=network, reason=reason)


def merchant_profile_create(
    *, wallet_id: str, name: str, city: str, mcc: str, scheme: str = "p2m", postal_code: str | None = None
) -> MerchantProfileDTO:
    """Let a wallet receive by QR: `name` (≤ 25) and `city` (≤ 15) printable ASCII as on the code,
    `mcc` four digits, `scheme` p2m (merchant, GUID ph.ppmi.p2m, tag 28) or p2p (person, GUID
    com.p2pqrpay, tag 27). A 15-digit QR Ph merchant id is allocated. One profile per wallet.

    Errors: 400 `validation_error` (the field named); 409 `merchant_profile_exists` (`extra`:
    `merchant_profile_id`). Audit: `merchant_profile.created`. Events: none.
    """
    return services.merchant_profile_create(
        wallet_id=wallet_id, name=name, city=city, mcc=mcc, scheme=scheme, postal_code=postal_code
    )


def merchant_profile_update(
    *, merchant_profile_id: str, name: str | None = None, city: str | None = None, mcc: str | None = None,
    postal_code: str | None = None,
) -> MerchantProfileDTO:  # fmt: skip
    """Change what new codes show (codes already issued keep their text and stay payable).
    Errors: 400 `validation_error`; 404 `merchant_profile_not_found`. Audit: `merchant_profile.updated`."""
    return services.merchant_profile_update(
        merchant_profile_id=merchant_profile_id, name=name, city=city, mcc=mcc, postal_code=postal_code
    )


def merchant_profile_get(*, merchant_profile_id: str) -> MerchantProfileDTO:
    """Errors: 400 `validation_error` (not a qrm_ id); 404 `merchant_profile_not_found`."""
    return selectors.merchant_dto(selectors.merchant_row(merchant_profile_id))


def merchant_profile_for_wallet(*, wallet_id: str) -> MerchantProfileDTO:
    """The wallet's merchant profile. Errors: 400 `validation_error`; 404 `merchant_profile_not_found`."""
    return selectors.merchant_for_wallet(wallet_id)


def qr_generate(
    *, merchant_profile_id: str, amount: int | None = None, expires_at: datetime | None = None
) -> QrCodeDTO:
    """Issue a QR Ph code paying the merchant profile's wallet, under the tenant's BIC.

    Without `amount`: a static code (01=11), the same string every time — asking again returns
    the code already issued with `replayed=True` and writes nothing. With `amount` (centavos,
    1..999999999999): a dynamic code (01=12) with its amount in tag 54 and a unique reference in
    tag 62.05; it is single-use and, with `expires_at` (aware, future), expires.

    Errors: 400 `validation_error` (amount, expires_at — `expiry_needs_amount` without an
    amount); 404 `merchant_profile_not_found`. Events: `qr.generated`.
    """
    return services.qr_generate(merchant_profile_id=merchant_profile_id, amount=amount, expires_at=expires_at)


def qr_code_get(*, qr_code_id: str) -> QrCodeDTO:
    """Errors: 400 `validation_error`; 404 `qr_code_not_found`."""
    return selectors.code_get(qr_code_id)


def qr_decode(*, payload: str) -> DecodedQr:
    """Decode any EMVCo merchant-presented code (QR Ph or another scheme; pure, writes nothing).
    The result keeps every tag in order with its raw value. Errors: 422 `invalid_qr` naming the tag."""
    return qr_payload_decode(payload)


def qr_image(*, payload: str, format: str = "png", scale: int = 8) -> QrImageDTO:
    """The image of a valid code: `format` png (bytes) or svg (UTF-8 XML); `scale` 1-40 pixels
    per module. Errors: 422 `invalid_qr`; 400 `validation_error` (format, scale)."""
    if format not in images.CONTENT_TYPES:
        raise validation._invalid("format", "png or svg.")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 40:
        raise validation._invalid("scale", "An integer from 1 to 40.")
    qr_payload_decode(payload)
    return QrImageDTO(
        content_type=images.CONTENT_TYPES[format], data=images.qr_image_render(payload, kind=format, scale=scale)
    )


def qr_payment_initiate(
    *, payer_wallet_id: str, payload: str, amount: int | None = None, reference: str
) -> QrPaymentDTO:
    """Pay a scanned QR Ph code from `payer_wallet_id`. Returns the payment, `pending`:

    - on-us (the code carries the tenant's BIC and one of its merchant ids): `route="on_us"` with
      `receiving_wallet_id`; orchestration settles it through the ledger at once and calls
      `qr_payment_confirm` (or `qr_payment_fail`);
    - off-us: `route="off_us"`; it is submitted to the tenant's QR Ph network after commit and
      becomes confirmed or failed when the network answers (events tell).

    Amount: a static code needs `amount` from the payer; a dynamic code's amount is fixed
    (`amount` may be omitted or must equal it). A dynamic code is paid once (a failed payment
    frees it again); the tenant's own dynamic codes may expire.

    `reference` (1-200, unique per tenant) makes it idempotent: the same request again returns
    the first payment (`replayed=True`), whatever its status now; another request → 409.

    Errors: 400 `validation_error` (payer_wallet_id, reference, amount — `amount_required`);
    409 `reference_reused`; 422 `invalid_qr` (a tag named; also `not_qrph`, `unknown_merchant`,
    `unknown_code`), `amount_mismatch`, `qr_already_paid` (`extra`: `payment_id`), `qr_expired`,
    `same_wallet`. Events: `qr.payment.received`. Audit: `qr_payment.received`.
    """
    return payments.qr_payment_initiate(
        payer_wallet_id=payer_wallet_id, payload=payload, amount=amount, reference=reference
    )


def qr_payment_status(*, payment_id: str) -> QrPaymentDTO:
    """Errors: 400 `validation_error` (not a qrp_ id); 404 `qr_payment_not_found`."""
    return selectors.payment_get(payment_id)


def qr_payment_confirm(*, payment_id: str, settlement_reference: str) -> QrPaymentDTO:
    """An on-us payment settled (`settlement_reference`: the ledger transaction id): pending →
    confirmed. Confirming again is a replay (`replayed=True`, nothing written).
    Errors: 404 `qr_payment_not_found`; 409 `route_mismatch` (off-us), `invalid_transition`
    (failed). Events: `qr.payment.confirmed`. Audit: `qr_payment.confirmed`."""
    return payments.qr_payment_confirm(payment_id=payment_id, settlement_reference=settlement_reference)


def qr_payment_fail(*, payment_id: str, reason: str) -> QrPaymentDTO:
    """An on-us payment could not settle (`reason`: snake_case, e.g. insufficient_funds): pending
    → failed; a dynamic code becomes payable again. Errors as qr_payment_confirm.
    Events: `qr.payment.failed`. Audit: `qr_payment.failed`."""
    return payments.qr_payment_fail(payment_id=payment_id, reason=reason)
