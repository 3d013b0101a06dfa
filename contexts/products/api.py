"""Public face of orchestration, for the unified product API (its rest/ layer): one function per
product operation, keyword-only, frozen DTOs (dtos.py).

Every money-moving function takes the caller's idempotency `reference` (unique per kind of
operation): the same request again returns the same operation (`replayed`), whatever it became;
another request under it → 409 `reference_reused`. The policy checks run first and write
nothing when they refuse (API.md codes: `tenant_suspended`, `feature_not_available`,
`currency_not_supported`, `currency_mismatch`, `wallet_not_active`, `kyc_required`,
`same_wallet`, `payee_not_allowed`, `invalid_qr`); `limit_exceeded` refuses with nothing written
too. A fraud decline is `422 risk_declined` (no money moved, limit usage given back); a fraud
review leaves the funds held and the operation `pending`.
"""

from __future__ import annotations

from django.db import transaction

from contexts.identity import api as identity_api
from contexts.ledger import api as ledger_api
from contexts.qrph import api as qrph_api
from contexts.wallets import api as wallets_api
from finfactory.audit.services import audit_lock
from finfactory.errors import FieldError, InvalidInput, PlatformError

from . import policy, selectors
from .configuration import product_config
from .dtos import BalanceDTO, OperationDTO, ProductWalletDTO
from .models import Operation
from .saga import Step, operation_run, operation_start
from .selectors import operation_dto, operation_row
from .workflows import WORKFLOWS, limits_reserve, wallet_account, wallet_account_create, wallet_close_step

LIMITS = Step("limits", limits_reserve)


def _finish(op: Operation, replayed: bool) -> OperationDTO:
    """Run what can run now. A failure reached in this call is raised as its API error (nothing
    moved, what was reserved is given back); a replay returns the operation as it stands."""
    if replayed:
        return operation_dto(op, replayed=True)
    op = operation_run(op.public_id, WORKFLOWS)
    dto = operation_dto(op)
    if dto.status == "failed":
        raise policy.refuse(dto.failure_code, "operation", dto.failure_detail or dto.failure_code, operation_id=dto.id)
    return dto


def _risk_context(channel, device_id, ip_address, ip_country) -> dict:
    return {
        "channel": channel or "api",
        "device_id": device_id or "",
        "ip_address": ip_address or "",
        "ip_country": ip_country or "",
    }


# --- wallets -----------------------------------------------------------------------------------------


def wallet_open(*, customer_id: str, currency: str) -> ProductWalletDTO:
    """Open the customer's wallet in `currency` with its ledger account (no overdraft, the tier's
    maximum balance as ceiling); the wallet already open is returned (`replayed`). Errors:
    `tenant_suspended`, `currency_not_supported`, customer NotFound."""
    policy.tenant_active()
    config = product_config()
    currency = policy.currency(currency, config)
    policy.customer_exists(customer_id)
    level = identity_api.customer_level(customer_id=customer_id)
    with transaction.atomic():
        audit_lock()  # wallets' open is audited (docs/adr/0014)
        wallet = wallets_api.wallet_open(customer_id=customer_id, currency=currency, kyc_level=level)
        max_balance = wallets_api.limits_get(wallet_id=wallet.id).max_balance
        account_id = wallet_account_create(
            wallet_id=wallet.id, customer_id=customer_id, currency=currency, max_balance=max_balance
        )
    return ProductWalletDTO(
        id=wallet.id,
        customer_id=wallet.customer_id,
        currency=wallet.currency,
        status=wallet.status,
        tier=wallet.tier,
        kyc_level=wallet.kyc_level,
        account_id=account_id,
        created_at=wallet.created_at,
        replayed=wallet.replayed,
    )


def wallet_get(*, wallet_id: str) -> ProductWalletDTO:
    wallet = wallets_api.wallet_get(wallet_id=wallet_id)
    return ProductWalletDTO(
        id=wallet.id,
        customer_id=wallet.customer_id,
        currency=wallet.currency,
        status=wallet.status,
        tier=wallet.tier,
        kyc_level=wallet.kyc_level,
        account_id=wallet_account(wallet.id),
        created_at=wallet.created_at,
    )


def balance_get(*, wallet_id: str) -> BalanceDTO:
    """The wallet's balance from the ledger: posted, held and available = posted - held."""
    wallet = wallets_api.wallet_get(wallet_id=wallet_id)
    balance = ledger_api.balance_get(account_id=wallet_account(wallet.id))
    return BalanceDTO(
        wallet_id=wallet.id,
        currency=balance.currency,
        posted=balance.posted,
        held=balance.held,
        available=balance.available,
    )


def wallet_close(*, wallet_id: str, reason: str, reference: str) -> OperationDTO:
    """Close a wallet whose ledger account is empty (the ledger checks, under its lock, and then
    takes no more postings). Errors: `balance_not_zero`, `wallet_not_active` (already closed)."""
    policy.tenant_active()
    reference = policy.reference(reference)
    holder = policy.wallet(wallet_id, field="wallet_id", must_be_active=False)
    if holder.status == "closed":
        raise policy.refuse("wallet_not_active", "wallet_id", "The wallet is already closed.")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason is required.", errors=[FieldError("reason", "A reason is required.", "required")])
    request = {"wallet_id": holder.id, "reason": reason.strip(), "customer_id": holder.customer_id}
    try:
        op, replayed = operation_start(
            kind="wallet_close",
            reference=reference,
            request=request,
            first=Step("close", wallet_close_step, audited=True),
            wallet_id=holder.id,
            amount=0,
            currency=holder.currency,
        )
    except PlatformError as exc:
        if exc.code in ("not_empty", "balance_not_zero"):
            raise policy.refuse("balance_not_zero", "wallet_id", "Only an empty wallet can close.") from exc
        raise
    return _finish(op, replayed)


# --- money movements ---------------------------------------------------------------------------------


def cash_in(
    *,
    wallet_id: str,
    amount: int,
    currency: str,
    reference: str,
    channel: str | None = None,
    device_id: str = "",
    ip_address: str = "",
    ip_country: str = "",
) -> OperationDTO:
    """Credit the wallet from the tenant's float (cash received at an agent, a bank transfer in):
    limits → fraud → one entry float → wallet (less the template's cash-in fee)."""
    policy.tenant_active()
    config = product_config()
    policy.flow_offered("cash_in", config)
    amount = policy.amount(amount)
    currency = policy.currency(currency, config)
    reference = policy.reference(reference)
    holder = policy.wallet(wallet_id, field="wallet_id", currency=currency)
    policy.kyc("cash_in", holder, config)
    fee = config.fee_for("cash_in", currency, amount)
    if fee >= amount:
        raise policy.refuse("amount_below_fee", "amount", "The amount does not cover the cash-in fee.", fee=fee)
    request = {
        "wallet_id": holder.id,
        "amount": amount,
        "currency": currency,
        "customer_id": holder.customer_id,
        "risk": _risk_context(channel or "agent", device_id, ip_address, ip_country),
    }
    op, replayed = operation_start(
        kind="cash_in",
        reference=reference,
        request=request,
        first=LIMITS,
        wallet_id=holder.id,
        amount=amount,
        fee=fee,
        currency=currency,
    )
    return _finish(op, replayed)


def transfer(
    *,
    source_wallet_id: str,
    destination_wallet_id: str,
    amount: int,
    currency: str,
    reference: str,
    description: str = "",
    channel: str | None = None,
    device_id: str = "",
    ip_address: str = "",
    ip_country: str = "",
) -> OperationDTO:
    """Move money between two of the tenant's wallets: limits (the payer's outgoing transfers; the
    payee's maximum balance is the ledger's ceiling) → fraud → one entry with the fee."""
    policy.tenant_active()
    config = product_config()
    policy.flow_offered("transfer", config)
    amount = policy.amount(amount)
    currency = policy.currency(currency, config)
    reference = policy.reference(reference)
    if source_wallet_id == destination_wallet_id:
        raise policy.refuse("same_wallet", "destination_wallet_id", "A wallet cannot pay itself.")
    payer = policy.wallet(source_wallet_id, field="source_wallet_id", currency=currency)
    payee = policy.wallet(destination_wallet_id, field="destination_wallet_id", currency=currency)
    policy.kyc("transfer", payer, config)
    policy.payee(payee.id, config, field="destination_wallet_id")
    fee = config.fee_for("transfer", currency, amount)
    request = {
        "wallet_id": payer.id,
        "counterparty": payee.id,
        "amount": amount,
        "currency": currency,
        "description": (description or "")[:200],
        "customer_id": payer.customer_id,
        "risk": _risk_context(channel, device_id, ip_address, ip_country),
    }
    op, replayed = operation_start(
        kind="transfer",
        reference=reference,
        request=request,
        first=LIMITS,
        wallet_id=payer.id,
        counterparty_wallet_id=payee.id,
        amount=amount,
        fee=fee,
        currency=currency,
    )
    return _finish(op, replayed)


def cash_out(
    *,
    wallet_id: str,
    amount: int,
    currency: str,
    reference: str,
    destination: dict | None = None,
    channel: str | None = None,
    device_id: str = "",
    ip_address: str = "",
    ip_country: str = "",
) -> OperationDTO:
    """Pay money out of the wallet through the payout adapter: limits → fraud → hold (amount +
    fee) → payout … → capture and charge the fee, or release. Returns `pending` until the payout
    answers (events: operation.succeeded / operation.failed)."""
    policy.tenant_active()
    config = product_config()
    policy.flow_offered("cash_out", config)
    amount = policy.amount(amount)
    currency = policy.currency(currency, config)
    reference = policy.reference(reference)
    holder = policy.wallet(wallet_id, field="wallet_id", currency=currency)
    policy.kyc("cash_out", holder, config)
    if destination is not None and not isinstance(destination, dict):
        raise InvalidInput("destination must be an object.", errors=[FieldError("destination", "An object.")])
    fee = config.fee_for("cash_out", currency, amount)
    request = {
        "wallet_id": holder.id,
        "amount": amount,
        "currency": currency,
        "destination": destination or {},
        "customer_id": holder.customer_id,
        "risk": _risk_context(channel, device_id, ip_address, ip_country),
    }
    op, replayed = operation_start(
        kind="cash_out",
        reference=reference,
        request=request,
        first=LIMITS,
        wallet_id=holder.id,
        amount=amount,
        fee=fee,
        currency=currency,
    )
    return _finish(op, replayed)


def qr_payment(
    *,
    wallet_id: str,
    payload: str,
    reference: str,
    amount: int | None = None,
    channel: str | None = None,
    device_id: str = "",
    ip_address: str = "",
    ip_country: str = "",
) -> OperationDTO:
    """Pay a scanned QR Ph code: decode → limits → fraud → on-us: one entry to the merchant's
    wallet (settled now); off-us: hold, then the QR Ph network … → capture or release."""
    policy.tenant_active()
    config = product_config()
    policy.flow_offered("qr_payment", config)
    reference = policy.reference(reference)
    if not isinstance(payload, str) or not payload:
        raise InvalidInput(
            "payload is required.", errors=[FieldError("payload", "This field is required.", "required")]
        )
    decoded = qrph_api.qr_decode(payload=payload)
    currency = policy.currency(decoded.currency, config)
    holder = policy.wallet(wallet_id, field="wallet_id", currency=currency)
    policy.kyc("qr_payment", holder, config)
    if decoded.amount is not None and amount is not None and amount != decoded.amount:
        raise policy.refuse("amount_mismatch", "amount", "The code fixes the amount.")
    amount = policy.amount(decoded.amount if decoded.amount is not None else amount)
    on_us = decoded.qrph is not None and decoded.qrph.bic == qrph_api.qrph_settings_get().bic
    if not on_us and (not config.feature("qr_off_us") or config.payees_scope == "own_merchants"):
        raise policy.refuse("payee_not_allowed", "payload", "The product pays only the tenant's own merchants.")
    policy.mcc_allowed(decoded.mcc, config, field="payload")
    fee = config.fee_for("qr_payment", currency, amount)
    request = {
        "wallet_id": holder.id,
        "payload": payload,
        "amount": amount,
        "currency": currency,
        "customer_id": holder.customer_id,
        "counterparty": decoded.qrph.merchant_id if decoded.qrph else "",
        "risk": _risk_context(channel, device_id, ip_address, ip_country),
    }
    op, replayed = operation_start(
        kind="qr_payment",
        reference=reference,
        request=request,
        first=LIMITS,
        wallet_id=holder.id,
        amount=amount,
        fee=fee,
        currency=currency,
    )
    return _finish(op, replayed)


def operation_get(*, operation_id: str) -> OperationDTO:
    return operation_dto(operation_row(operation_id))


# --- QR codes ----------------------------------------------------------------------------------------


def qr_code_create(
    *, wallet_id: str, merchant_name: str, merchant_city: str, amount: int | None = None, mcc: str | None = None
):
    """A QR Ph code paying into `wallet_id` (static without `amount`, dynamic with it). The
    wallet becomes one of the tenant's merchants with this name, city and category (MCC 0000
    when none is given); later codes keep its profile, with the name and city given."""
    policy.tenant_active()
    holder = policy.wallet(wallet_id, field="wallet_id")
    with transaction.atomic():
        audit_lock()  # qrph's writes are audited (docs/adr/0014)
        try:
            profile = qrph_api.merchant_profile_for_wallet(wallet_id=holder.id)
        except PlatformError as exc:
            if exc.status != 404:
                raise
            profile = None
        if profile is None:
            profile = qrph_api.merchant_profile_create(
                wallet_id=holder.id, name=merchant_name, city=merchant_city, mcc=mcc or "0000"
            )
        elif (profile.name, profile.city, profile.mcc) != (merchant_name, merchant_city, mcc or profile.mcc):
            profile = qrph_api.merchant_profile_update(
                merchant_profile_id=profile.id, name=merchant_name, city=merchant_city, mcc=mcc or profile.mcc
            )
        return qrph_api.qr_generate(merchant_profile_id=profile.id, amount=amount)


# --- transactions --------------------------------------------------------------------------------------


def transactions_list(
    *,
    wallet_id: str | None = None,
    type: str | None = None,
    created_after=None,
    created_before=None,
    limit: int = 20,
    cursor: str | None = None,
):
    """Transactions newest first (Page of TransactionDTO), keyset on the row id: one index range
    scan per page however many a wallet has. Filters: wallet, type, created after / before (RFC
    3339). Errors: 400 validation_error naming the filter, invalid_cursor."""
    return selectors.transactions_list(
        wallet_id=wallet_id,
        type=type,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
    )


def transaction_get(*, transaction_id: str):
    return selectors.transaction_get(transaction_id)
