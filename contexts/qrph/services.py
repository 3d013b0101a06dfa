"""Write side of the tenant's QR configuration, merchant profiles and issued codes. Payments are
in payments.py. Each write is one transaction: the rows, its event (outbox), its audit record."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from finfactory.audit.services import audit_record
from finfactory.errors import Conflict, FieldError
from finfactory.ids import new_id
from finfactory.outbox.publish import publish

from . import adapters, locks, validation
from .codec import qrph_payload_build
from .dtos import MerchantProfileDTO, QrCodeDTO, QrSettingsDTO
from .models import CodeType, MerchantProfile, QrCode, QrphSettings
from .selectors import code_dto, merchant_dto, merchant_row, settings_dto

_BRANCH_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def sandbox_bic() -> str:
    """QRPH_SANDBOX_BIC_PREFIX + a branch code derived from the schema: distinct per tenant."""
    raw = int.from_bytes(hashlib.sha256(connection.schema_name.encode()).digest()[:4], "big")
    branch = "".join(_BRANCH_ALPHABET[(raw >> (5 * i)) & 31] for i in range(3))
    return f"{settings.QRPH_SANDBOX_BIC_PREFIX}{branch}"


def settings_row() -> QrphSettings:
    """The tenant's QR configuration, created with the sandbox defaults on first use."""
    row = QrphSettings.objects.filter(pk=1).first()
    if row is None:
        row, _ = QrphSettings.objects.get_or_create(
            pk=1, defaults={"bic": sandbox_bic(), "network": settings.QRPH_NETWORK}
        )
    return row


def _settings_state(row: QrphSettings) -> dict:
    return {"bic": row.bic, "network": row.network}


def qrph_settings_update(*, bic: str | None = None, network: str | None = None, reason: str) -> QrSettingsDTO:
    if bic is not None:
        bic = validation.bic(bic)
    if network is not None and network not in adapters.NETWORKS:
        raise validation._invalid("network", f"One of {', '.join(adapters.NETWORKS)}.")
    reason = validation.text(reason, "reason", max_length=500)
    settings_row()
    with transaction.atomic():
        locks.audit_chain()
        row = QrphSettings.objects.select_for_update().get(pk=1)
        before = _settings_state(row)
        row.bic = bic or row.bic
        row.network = network or row.network
        row.save()
        if _settings_state(row) != before:
            audit_record(action="qrph_settings.updated", target_type="qrph_settings", target_id="1", before=before,
                         after=_settings_state(row), reason=reason)  # fmt: skip
    return settings_dto(row)


def _merchant_state(row: MerchantProfile) -> dict:
    return {field: getattr(row, field) for field in ("wallet_id", "scheme", "merchant_id", "name", "city", "mcc",
                                                     "postal_code")}  # fmt: skip


def _new_merchant_id() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(15))


def merchant_profile_create(
    *, wallet_id: str, name: str, city: str, mcc: str, scheme: str = "p2m", postal_code: str | None = None
) -> MerchantProfileDTO:
    fields = {
        "wallet_id": validation.wallet_id(wallet_id),
        "name": validation.text(name, "name", max_length=25),
        "city": validation.text(city, "city", max_length=15),
        "mcc": validation.mcc(mcc),
        "scheme": validation.scheme(scheme),
        "postal_code": validation.text(postal_code, "postal_code", max_length=10, required=False),
    }
    with transaction.atomic():
        locks.audit_chain()
        existing = MerchantProfile.objects.filter(wallet_id=fields["wallet_id"]).first()
        if existing is not None:
            raise Conflict(
                "The wallet already has a merchant profile.",
                code="merchant_profile_exists",
                errors=[FieldError("wallet_id", "Already has a merchant profile.", "merchant_profile_exists")],
                merchant_profile_id=existing.public_id,
            )
        for _ in range(5):  # 10^15 ids: a collision is rare, never fatal
            try:
                with transaction.atomic():
                    row = MerchantProfile.objects.create(merchant_id=_new_merchant_id(), **fields)
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - five collisions in a row
            raise RuntimeError("could not allocate a merchant id")
        audit_record(action="merchant_profile.created", target_type="merchant_profile", target_id=row.public_id,
                     after=_merchant_state(row), reason="Merchant profile created")  # fmt: skip
    return merchant_dto(row)


def merchant_profile_update(
    *, merchant_profile_id: str, name: str | None = None, city: str | None = None, mcc: str | None = None,
    postal_code: str | None = None,
) -> MerchantProfileDTO:  # fmt: skip
    changes = {}
    if name is not None:
        changes["name"] = validation.text(name, "name", max_length=25)
    if city is not None:
        changes["city"] = validation.text(city, "city", max_length=15)
    if mcc is not None:
        changes["mcc"] = validation.mcc(mcc)
    if postal_code is not None:
        changes["postal_code"] = validation.text(postal_code, "postal_code", max_length=10, required=False)
    found = merchant_row(merchant_profile_id)
    with transaction.atomic():
        locks.audit_chain()
        row = MerchantProfile.objects.select_for_update().get(pk=found.pk)
        before = _merchant_state(row)
        for field, value in changes.items():
            setattr(row, field, value)
        if _merchant_state(row) != before:
            row.save()
            audit_record(action="merchant_profile.updated", target_type="merchant_profile", target_id=row.public_id,
                         before=before, after=_merchant_state(row), reason="Merchant profile updated")  # fmt: skip
    return merchant_dto(row)


def qr_generate(
    *, merchant_profile_id: str, amount: int | None = None, expires_at: datetime | None = None
) -> QrCodeDTO:
    """Issue a code of the merchant's wallet: static without amount, dynamic with it."""
    amount = validation.optional_amount(amount)
    expires_at = validation.future_time(expires_at, timezone.now(), "expires_at")
    if expires_at is not None and amount is None:
        raise validation._invalid("expires_at", "Only a dynamic code (with an amount) expires.", "expiry_needs_amount")
    merchant = merchant_row(merchant_profile_id)
    bic = settings_row().bic
    code_id = new_id("qr")
    reference_label = code_id[-25:] if amount is not None else None
    payload = qrph_payload_build(
        scheme=merchant.scheme, bic=bic, merchant_id=merchant.merchant_id, mcc=merchant.mcc,
        merchant_name=merchant.name, merchant_city=merchant.city, amount=amount,
        postal_code=merchant.postal_code or None, reference_label=reference_label,
    )  # fmt: skip
    payload_digest = digest(payload)
    existing = QrCode.objects.select_related("merchant").filter(payload_digest=payload_digest).first()
    if existing is not None:  # a static code asked for again: the same string, issued once
        return code_dto(existing, replayed=True)
    code_type = CodeType.DYNAMIC if amount is not None else CodeType.STATIC
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = QrCode.objects.create(
                    public_id=code_id, merchant=merchant, type=code_type, payload=payload,
                    payload_digest=payload_digest, amount=amount, reference_label=reference_label or "",
                    expires_at=expires_at,
                )  # fmt: skip
        except IntegrityError:  # the same static code issued concurrently
            return code_dto(QrCode.objects.select_related("merchant").get(payload_digest=payload_digest), replayed=True)
        publish(
            "qr.generated",
            row.public_id,
            {
                "qr_code_id": row.public_id, "merchant_profile_id": merchant.public_id, "wallet_id": merchant.wallet_id,
                "type": row.type, "amount": amount, "currency": row.currency,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )  # fmt: skip
    return code_dto(row)
