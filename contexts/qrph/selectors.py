"""Read side: rows by public id (404 with a stable code) and their DTOs."""

from __future__ import annotations

from finfactory.errors import NotFound

from . import validation
from .dtos import MerchantProfileDTO, QrCodeDTO, QrPaymentDTO, QrSettingsDTO
from .models import MerchantProfile, QrCode, QrPayment, QrphSettings


def settings_dto(row: QrphSettings) -> QrSettingsDTO:
    return QrSettingsDTO(bic=row.bic, network=row.network, updated_at=row.updated_at)


def merchant_dto(row: MerchantProfile) -> MerchantProfileDTO:
    return MerchantProfileDTO(
        id=row.public_id, wallet_id=row.wallet_id, scheme=row.scheme, merchant_id=row.merchant_id, name=row.name,
        city=row.city, mcc=row.mcc, postal_code=row.postal_code, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


def code_dto(row: QrCode, *, replayed: bool = False) -> QrCodeDTO:
    return QrCodeDTO(
        id=row.public_id, merchant_profile_id=row.merchant.public_id, wallet_id=row.merchant.wallet_id, type=row.type,
        payload=row.payload, amount=row.amount, currency=row.currency, expires_at=row.expires_at,
        created_at=row.created_at, replayed=replayed,
    )  # fmt: skip


def payment_dto(row: QrPayment, *, replayed: bool = False) -> QrPaymentDTO:
    return QrPaymentDTO(
        id=row.public_id, reference=row.reference, status=row.status, route=row.route,
        payer_wallet_id=row.payer_wallet_id, receiving_wallet_id=row.receiving_wallet_id or None,
        qr_code_id=row.qr_code.public_id if row.qr_code_id else None, code_type=row.code_type, amount=row.amount,
        currency=row.currency, acquirer_bic=row.acquirer_bic, merchant_id=row.merchant_id,
        network_reference=row.network_reference or None, settlement_reference=row.settlement_reference or None,
        failure_reason=row.failure_reason or None, created_at=row.created_at, decided_at=row.decided_at,
        replayed=replayed,
    )  # fmt: skip


def merchant_row(merchant_profile_id: object, field: str = "merchant_profile_id") -> MerchantProfile:
    public_id = validation.public_id("qrm", merchant_profile_id, field)
    row = MerchantProfile.objects.filter(public_id=public_id).first()
    if row is None:
        raise NotFound("No such merchant profile.", code="merchant_profile_not_found")
    return row


def merchant_for_wallet(wallet_id: object) -> MerchantProfileDTO:
    wallet_id = validation.wallet_id(wallet_id)
    row = MerchantProfile.objects.filter(wallet_id=wallet_id).first()
    if row is None:
        raise NotFound("The wallet has no merchant profile.", code="merchant_profile_not_found")
    return merchant_dto(row)


def code_get(qr_code_id: object) -> QrCodeDTO:
    public_id = validation.public_id("qr", qr_code_id, "qr_code_id")
    row = QrCode.objects.select_related("merchant").filter(public_id=public_id).first()
    if row is None:
        raise NotFound("No such QR code.", code="qr_code_not_found")
    return code_dto(row)


def payment_row(payment_id: object) -> QrPayment:
    public_id = validation.public_id("qrp", payment_id, "payment_id")
    row = QrPayment.objects.select_related("qr_code").filter(public_id=public_id).first()
    if row is None:
        raise NotFound("No such QR payment.", code="qr_payment_not_found")
    return row


def payment_get(payment_id: object) -> QrPaymentDTO:
    return payment_dto(payment_row(payment_id))
