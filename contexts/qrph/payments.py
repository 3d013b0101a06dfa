"""QR payments: initiate (decide on-us or off-us), then pending → confirmed | failed once.

On-us (the code's QR Ph GUID and acquirer BIC are the tenant's, its merchant id one of the
tenant's merchant profiles): the payment is recorded pending with the receiving wallet, and
orchestration settles it through the ledger and reports back (`qr_payment_confirm` /
`qr_payment_fail`). qrph never moves money. Off-us: the payment goes to the tenant's network
adapter after commit, whose result (`qr_payment_network_result`) decides it.
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from finfactory.audit.services import audit_record
from finfactory.errors import BusinessRuleViolation, Conflict, FieldError, InvalidInput
from finfactory.outbox.publish import publish

from . import dispatch, locks, validation
from .adapters import network_get
from .adapters.base import CONFIRMED, FAILED, NetworkResult, PaymentRequest
from .codec import DYNAMIC, RECEIVER_SUB_TAG, qr_payload_decode
from .dtos import QrPaymentDTO
from .emv import field_name
from .errors import invalid_qr
from .models import MerchantProfile, PaymentStatus, QrCode, QrPayment, Route
from .selectors import payment_dto, payment_row
from .services import digest, settings_row

NOT_QRPH = "not_qrph"
UNKNOWN_MERCHANT = "unknown_merchant"
UNKNOWN_CODE = "unknown_code"
AUDIT_TARGET = "qr_payment"


def _request_digest(payer_wallet_id: str, payload: str, amount: int | None) -> str:
    canonical = json.dumps({"payer_wallet_id": payer_wallet_id, "payload": payload, "amount": amount}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(existing: QrPayment, request_digest: str) -> QrPaymentDTO:
    if existing.request_digest != request_digest:
        raise Conflict(
            "The reference was used for a different payment.",
            code="reference_reused",
            errors=[FieldError("reference", "Already used for a different request.", "reference_reused")],
        )
    return payment_dto(existing, replayed=True)


def _event_data(payment: QrPayment) -> dict:
    return {
        "payment_id": payment.public_id, "route": payment.route, "payer_wallet_id": payment.payer_wallet_id,
        "receiving_wallet_id": payment.receiving_wallet_id or None,
        "qr_code_id": payment.qr_code.public_id if payment.qr_code_id else None, "amount": payment.amount,
        "currency": payment.currency, "status": payment.status,
    }  # fmt: skip


def _state(payment: QrPayment) -> dict:
    return {**_event_data(payment), "network_reference": payment.network_reference,
            "settlement_reference": payment.settlement_reference, "failure_reason": payment.failure_reason}  # fmt: skip


def _route(decoded, now) -> dict:
    """Where the payment goes: on-us fields (receiving wallet, the tenant's code) or off-us."""
    account = decoded.qrph
    config = settings_row()
    if account.bic != config.bic:
        return {"route": Route.OFF_US, "network": config.network}
    receiver_field = field_name(RECEIVER_SUB_TAG[account.scheme], account.tag)
    merchant = MerchantProfile.objects.filter(merchant_id=account.merchant_id, scheme=account.scheme).first()
    if merchant is None:
        raise invalid_qr(receiver_field, UNKNOWN_MERCHANT, "the tenant has no merchant with this id")
    code = QrCode.objects.filter(payload_digest=digest(decoded.payload)).first()
    if code is None and decoded.point_of_initiation == DYNAMIC:
        raise invalid_qr("tag_62.05", UNKNOWN_CODE, "the tenant did not issue this dynamic code")
    if code is not None and code.expires_at is not None and code.expires_at <= now:
        raise BusinessRuleViolation(
            "The QR code has expired.", code="qr_expired",
            errors=[FieldError("payload", "The code expired.", "qr_expired")],
        )  # fmt: skip
    return {"route": Route.ON_US, "receiving_wallet_id": merchant.wallet_id, "qr_code": code}


def qr_payment_initiate(
    *, payer_wallet_id: str, payload: str, amount: int | None = None, reference: str
) -> QrPaymentDTO:
    payer_wallet_id = validation.wallet_id(payer_wallet_id, "payer_wallet_id")
    reference = validation.reference(reference)
    amount = validation.optional_amount(amount)
    if not isinstance(payload, str):
        raise invalid_qr("payload", "bad_format", "the payload must be text")
    request_digest = _request_digest(payer_wallet_id, payload, amount)
    existing = QrPayment.objects.select_related("qr_code").filter(reference=reference).first()
    if existing is not None:  # a retry: answered without taking any lock
        return _replay(existing, request_digest)
    decoded = qr_payload_decode(payload)
    if decoded.qrph is None:
        raise invalid_qr("tag_02-51", NOT_QRPH, "only QR Ph codes (com.p2pqrpay, ph.ppmi.p2m) can be paid")
    if decoded.point_of_initiation == DYNAMIC:
        if amount is not None and amount != decoded.amount:
            raise BusinessRuleViolation(
                "A dynamic code's amount is fixed.", code="amount_mismatch",
                errors=[FieldError("amount", f"Must be {decoded.amount} or omitted.", "amount_mismatch")],
            )  # fmt: skip
        amount = decoded.amount
    elif amount is None:
        raise InvalidInput(
            "A static code needs the amount from the payer.",
            errors=[FieldError("amount", "Required to pay a static code.", "amount_required")],
        )
    now = timezone.now()
    route = _route(decoded, now)
    if route.get("receiving_wallet_id") == payer_wallet_id:
        raise BusinessRuleViolation(
            "A wallet cannot pay its own QR code.", code="same_wallet",
            errors=[FieldError("payer_wallet_id", "The code belongs to this wallet.", "same_wallet")],
        )  # fmt: skip
    payload_digest = digest(payload)
    with transaction.atomic():
        locks.audit_chain()
        locks.reference(reference)
        existing = QrPayment.objects.select_related("qr_code").filter(reference=reference).first()
        if existing is not None:  # a concurrent retry won while we waited
            return _replay(existing, request_digest)
        if decoded.point_of_initiation == DYNAMIC:
            locks.code(payload_digest)
            _refuse_if_paid(payload_digest)
        try:
            with transaction.atomic():
                payment = QrPayment.objects.create(
                    reference=reference, request_digest=request_digest, payer_wallet_id=payer_wallet_id,
                    payload=payload, payload_digest=payload_digest, code_type=decoded.point_of_initiation or "static",
                    acquirer_bic=decoded.qrph.bic, merchant_id=decoded.qrph.merchant_id, amount=amount,
                    currency=decoded.currency, **route,
                )  # fmt: skip
        except IntegrityError:  # the single-use index: a dynamic code paid meanwhile
            _refuse_if_paid(payload_digest)
            raise
        publish("qr.payment.received", payment.public_id, _event_data(payment))
        audit_record(action="qr_payment.received", target_type=AUDIT_TARGET, target_id=payment.public_id,
                     after=_state(payment), reason=f"QR payment initiated ({payment.route})")  # fmt: skip
        if payment.route == Route.OFF_US:
            dispatch.submit_payment_after_commit(payment.public_id)
    return payment_dto(payment)


def _refuse_if_paid(payload_digest: str) -> None:
    paid = QrPayment.objects.filter(payload_digest=payload_digest, code_type=DYNAMIC).exclude(
        status=PaymentStatus.FAILED
    )
    first = paid.values_list("public_id", flat=True).first()
    if first is not None:
        raise BusinessRuleViolation(
            "This dynamic QR code has already been paid.", code="qr_already_paid",
            errors=[FieldError("payload", "A dynamic code pays once.", "qr_already_paid")], payment_id=first,
        )  # fmt: skip


def _decide(*, payment_id: str, outcome: str, route: str | None, reason: str = "", reference: str = "") -> QrPaymentDTO:
    """pending → confirmed | failed under the row lock. The same decision again is a replay
    (nothing written); a different one, or one on the wrong route, is 409."""
    found = payment_row(payment_id)
    with transaction.atomic():
        locks.audit_chain()
        payment = QrPayment.objects.select_for_update(of=("self",)).select_related("qr_code").get(pk=found.pk)
        if route is not None and payment.route != route:
            message = f"The payment is {payment.route}."
            raise Conflict(message, code="route_mismatch", errors=[FieldError("payment_id", message, "route_mismatch")])
        if payment.status == outcome:
            return payment_dto(payment, replayed=True)
        method = payment.confirm if outcome == CONFIRMED else payment.fail
        if not can_proceed(method):
            raise Conflict(
                f"The payment is {payment.status}.", code="invalid_transition", status=payment.status,
                errors=[FieldError("payment_id", f"The payment is {payment.status}.", "invalid_transition")],
            )  # fmt: skip
        before = _state(payment)
        now = timezone.now()
        if outcome == CONFIRMED:
            method(at=now, settlement_reference=reference if payment.route == Route.ON_US else "")
        else:
            method(at=now, reason=reason)
        payment.save()
        data = _event_data(payment)
        if outcome == CONFIRMED:
            data |= {
                "network_reference": payment.network_reference,
                "settlement_reference": payment.settlement_reference,
            }
            publish("qr.payment.confirmed", payment.public_id, data)
        else:
            publish("qr.payment.failed", payment.public_id, data | {"reason": reason})
        audit_record(action=f"qr_payment.{outcome}", target_type=AUDIT_TARGET, target_id=payment.public_id,
                     before=before, after=_state(payment), reason=reason or f"QR payment {outcome}")  # fmt: skip
    return payment_dto(payment)


def qr_payment_confirm(*, payment_id: str, settlement_reference: str) -> QrPaymentDTO:
    settlement_reference = validation.reference(settlement_reference, "settlement_reference")
    return _decide(payment_id=payment_id, outcome=CONFIRMED, route=Route.ON_US, reference=settlement_reference)


def qr_payment_fail(*, payment_id: str, reason: str) -> QrPaymentDTO:
    return _decide(payment_id=payment_id, outcome=FAILED, route=Route.ON_US, reason=validation.reason(reason))


def qr_payment_network_result(*, result: NetworkResult) -> QrPaymentDTO:
    """Apply the network's answer about an off-us payment (at least once: a replay is harmless)."""
    reason = validation.reason(result.reason) if result.outcome == FAILED else ""
    return _decide(payment_id=result.payment_id, outcome=result.outcome, route=Route.OFF_US, reason=reason)


def qr_payment_submit(*, payment_id: str) -> str:
    """Hand an off-us payment to its network (outside any transaction); record the reference."""
    payment = payment_row(payment_id)
    if payment.route != Route.OFF_US or payment.status != PaymentStatus.PENDING or payment.network_reference:
        return "skipped"
    network = network_get(payment.network)
    submitted = network.submit(
        PaymentRequest(payment_id=payment.public_id, amount=payment.amount, currency=payment.currency,
                       acquirer_bic=payment.acquirer_bic, merchant_id=payment.merchant_id, payload=payment.payload)
    )  # fmt: skip
    QrPayment.objects.filter(pk=payment.pk, network_reference="").update(
        network_reference=submitted.network_reference, submitted_at=timezone.now(), updated_at=timezone.now()
    )
    if submitted.result is not None:
        qr_payment_network_result(result=submitted.result)
    return "submitted"
