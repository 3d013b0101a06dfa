"""Frozen values qrph hands out (re-exported by contexts.qrph.api). Never model instances.
Amounts are integers in minor units of `currency` (PHP: centavos)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .codec import DecodedQr, LanguageTemplate, MerchantAccount

__all__ = [
    "DecodedQr",
    "LanguageTemplate",
    "MerchantAccount",
    "MerchantProfileDTO",
    "QrCodeDTO",
    "QrImageDTO",
    "QrPaymentDTO",
    "QrSettingsDTO",
]


@dataclass(frozen=True)
class QrSettingsDTO:
    bic: str
    network: str
    updated_at: datetime


@dataclass(frozen=True)
class MerchantProfileDTO:
    id: str
    wallet_id: str
    scheme: str  # p2m | p2p
    merchant_id: str  # the id the tenant's codes carry (P2M sub-tag 03, P2P sub-tag 04)
    name: str
    city: str
    mcc: str
    postal_code: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class QrCodeDTO:
    id: str
    merchant_profile_id: str
    wallet_id: str
    type: str  # static | dynamic
    payload: str
    amount: int | None
    currency: str
    expires_at: datetime | None
    created_at: datetime
    replayed: bool = False  # a static code asked for again: the one already issued


@dataclass(frozen=True)
class QrImageDTO:
    content_type: str  # image/png | image/svg+xml
    data: bytes


@dataclass(frozen=True)
class QrPaymentDTO:
    id: str
    reference: str
    status: str  # pending | confirmed | failed
    route: str  # on_us | off_us
    payer_wallet_id: str
    receiving_wallet_id: str | None  # on-us: the wallet to credit; off-us: None
    qr_code_id: str | None  # on-us: the tenant's code that was paid
    code_type: str  # static | dynamic
    amount: int
    currency: str
    acquirer_bic: str
    merchant_id: str
    network_reference: str | None
    settlement_reference: str | None
    failure_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    replayed: bool = False
