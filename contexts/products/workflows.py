"""The steps of each product operation, as the saga engine (saga.py) runs them.

    cash-in      limits → fraud → credit from the float                              (→ succeeded)
    transfer     limits → fraud → one entry: payer - (amount + fee), payee + amount, fees + fee
    cash-out     limits → fraud → hold → payout adapter … → capture (+ fee) | release
    QR payment   limits → fraud → on-us: one entry to the merchant's wallet and qrph confirms;
                                  off-us: hold, qrph submits to the network … → capture | release
    wallet close ledger account closed (refused unless empty) → wallet closed with that evidence

A fraud review holds the payer's funds (nothing to hold for a cash-in) and waits for the
reviewer's decision (consumers.py). Every primitive call carries a reference derived from the
operation's id: `<op id>:<step>`.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from contexts.fraud import api as fraud_api
from contexts.ledger import api as ledger_api
from contexts.qrph import api as qrph_api
from contexts.wallets import api as wallets_api
from finfactory.errors import BusinessRuleViolation, FieldError, NotFound
from finfactory.tenantconfig import config_get

from . import dispatch, transactions
from .configuration import product_config
from .models import Operation, OperationStatus, Payout, PayoutStatus, WalletAccount
from .saga import Step, operation_wait

# Where held funds are headed: a capture moves them there (a transfer's hold is released and the
# transfer posted in one step, so its counter-account only reserves).
HOLD_CREDIT = {"transfer": "suspense", "cash_out": "payouts_in_transit", "qr_payment": "settlement"}
FLOW_LIMIT_KIND = {
    "cash_in": "cash_in",
    "cash_out": "cash_out",
    "transfer": "transfer_out",
    "qr_payment": "transfer_out",
}


# --- accounts --------------------------------------------------------------------------------------


def wallet_account(wallet_id: str) -> str:
    """The wallet's ledger account (products opens it with the wallet: api.wallet_open)."""
    found = WalletAccount.objects.filter(wallet_id=wallet_id).values_list("account_id", flat=True).first()
    if found is None:
        raise NotFound(
            "The wallet has no ledger account: open wallets through the product.",
            code="not_found",
            errors=[FieldError("wallet_id", "No ledger account for this wallet.", "not_found")],
        )
    return found


def wallet_account_create(*, wallet_id: str, customer_id: str, currency: str, max_balance: int | None) -> str:
    """Open the wallet's ledger account (liability, no overdraft, the tier's ceiling) once."""
    existing = WalletAccount.objects.filter(wallet_id=wallet_id).values_list("account_id", flat=True).first()
    if existing is not None:
        return existing
    account = ledger_api.account_open(
        currency=currency, type="liability", owner_ref=wallet_id, name=f"Wallet {wallet_id}", max_balance=max_balance
    )
    try:
        with transaction.atomic():
            WalletAccount.objects.create(
                wallet_id=wallet_id, customer_id=customer_id, currency=currency, account_id=account.id
            )
    except IntegrityError:  # a concurrent open won: its account is the wallet's
        return wallet_account(wallet_id)
    return account.id


def system(code: str, currency: str) -> str:
    return ledger_api.system_account(code=code, currency=currency).id


def _record(entry_id: str) -> None:
    if entry_id:
        transactions.record_entry(entry_id)


def ref(op: Operation, step: str) -> str:
    return f"{op.public_id}:{step}"


# --- steps every money movement shares -------------------------------------------------------------


def limits_reserve(op: Operation) -> None:
    op.limit_reference = ref(op, "limits")
    wallets_api.limits_reserve(
        wallet_id=op.wallet_id,
        kind=FLOW_LIMIT_KIND[op.kind],
        amount=op.amount,
        currency=op.currency,
        reference=op.limit_reference,
    )


def _risk(op: Operation) -> None:
    movement = op.request.get("risk", {})
    scored = fraud_api.score(
        reference=ref(op, "risk"),
        customer_id=op.request["customer_id"],
        wallet_id=op.wallet_id,
        movement_type=op.kind,
        amount=op.amount,
        currency=op.currency,
        channel=movement.get("channel") or "api",
        counterparty=op.counterparty_wallet_id or op.request.get("counterparty", ""),
        device_id=movement.get("device_id", ""),
        ip_address=movement.get("ip_address", ""),
        ip_country=movement.get("ip_country", ""),
    )
    op.assessment_id, op.risk_decision = scored.id, scored.decision
    if scored.decision == "decline":
        raise BusinessRuleViolation(
            "The movement was declined by risk checks.",
            code="risk_declined",
            errors=[FieldError("amount", "Declined by risk checks.", "risk_declined")],
        )
    if scored.decision == "review":
        if op.kind in HOLD_CREDIT:  # a cash-in has nothing of the customer's to hold
            _hold(op, credit_code=HOLD_CREDIT[op.kind])
        op.review()
    else:
        op.risk_approve()


RISK = Step("risk", _risk)


def _hold(op: Operation, *, credit_code: str) -> None:
    hold = ledger_api.hold_create(
        external_ref=ref(op, "hold"),
        account_id=wallet_account(op.wallet_id),
        credit_account_id=system(credit_code, op.currency),
        amount=op.amount + op.fee,
        currency=op.currency,
        description=f"{op.kind} {op.public_id}",
        metadata={"operation_id": op.public_id},
    )
    op.hold_id = hold.id


def _hold_release(op: Operation) -> None:
    if op.hold_id and ledger_api.hold_get(hold_id=op.hold_id).status == "active":
        ledger_api.hold_release(hold_id=op.hold_id)


def _review_decided(op: Operation) -> None:
    if op.risk_decision == "approve":
        op.review_approve()
    else:
        raise BusinessRuleViolation(
            "The movement was declined after review.",
            code="risk_declined",
            errors=[FieldError("amount", "Declined after review.", "risk_declined")],
        )


REVIEW_DECIDED = Step("review_decided", _review_decided)


def _compensate(op: Operation) -> None:
    """Give back what the operation took, in one transaction; each part is safe to repeat."""
    _hold_release(op)
    if op.entry_id and not op.reversal_entry_id:
        reversal = ledger_api.entry_reverse(entry_id=op.entry_id, external_ref=ref(op, "reverse"))
        op.reversal_entry_id = reversal.id
        transactions.record_entry(reversal)
    if op.limit_reference:
        wallets_api.limits_release(reference=op.limit_reference)
    op.compensated = bool(op.hold_id or op.limit_reference or op.entry_id)
    op.compensated_done()


COMPENSATE = Step("compensate", _compensate)


def _capture_with_fee(op: Operation, *, description: str) -> None:
    """Capture the amount (the hold's counter-account gets it; the rest of the hold, the fee, is
    released in the same entry), then charge the fee from the wallet to the fees account — both in
    this step's transaction, so the fee just released is there to charge."""
    captured = ledger_api.hold_capture(
        hold_id=op.hold_id,
        external_ref=ref(op, "capture"),
        amount=op.amount,
        description=description,
        metadata={"operation_id": op.public_id},
    )
    op.entry_id = captured.capture_entry_id or ""
    _record(op.entry_id)
    if op.fee:
        fee = ledger_api.transfer(
            external_ref=ref(op, "fee"),
            debit_account_id=wallet_account(op.wallet_id),
            credit_account_id=system("fees", op.currency),
            amount=op.fee,
            currency=op.currency,
            description=f"Fee of {description}",
            metadata={"operation_id": op.public_id},
        )
        op.fee_entry_id = fee.id
        transactions.record_entry(fee)


def _fee_lines(op: Operation, payer_account: str) -> list:
    if not op.fee:
        return []
    return [
        ledger_api.Line(payer_account, "debit", op.fee, op.currency),
        ledger_api.Line(system("fees", op.currency), "credit", op.fee, op.currency),
    ]


class Workflow:
    """`step_for(op)`: the next step from the operation's state, or None while it waits."""

    def step_for(self, op: Operation) -> Step | None:
        if op.status == OperationStatus.COMPENSATING:
            return COMPENSATE
        if op.status == OperationStatus.STARTED:
            return RISK
        if op.status == OperationStatus.PENDING_REVIEW:
            return REVIEW_DECIDED if op.risk_decision in ("approve", "decline") else None
        return self.money_step(op)

    def money_step(self, op: Operation) -> Step | None:
        raise NotImplementedError


# --- cash-in -----------------------------------------------------------------------------------------


def _cash_in_post(op: Operation) -> None:
    wallet = wallet_account(op.wallet_id)
    lines = [
        ledger_api.Line(system("float", op.currency), "debit", op.amount, op.currency),
        ledger_api.Line(wallet, "credit", op.amount, op.currency),
        *_fee_lines(op, wallet),
    ]
    entry = ledger_api.entry_post(
        external_ref=ref(op, "post"),
        postings=lines,
        description=f"Cash-in {op.public_id}",
        metadata={"operation_id": op.public_id, "kind": "cash_in"},
    )
    op.entry_id = entry.id
    transactions.record_entry(entry)
    op.succeed()


class CashIn(Workflow):
    POST = Step("post", _cash_in_post)

    def money_step(self, op):
        return self.POST if op.status == OperationStatus.RISK_APPROVED else None


# --- transfer ---------------------------------------------------------------------------------------


def _transfer_post(op: Operation) -> None:
    _hold_release(op)  # after a review the funds were held: the entry below moves them
    payer, payee = wallet_account(op.wallet_id), wallet_account(op.counterparty_wallet_id)
    lines = [
        ledger_api.Line(payer, "debit", op.amount, op.currency),
        ledger_api.Line(payee, "credit", op.amount, op.currency),
        *_fee_lines(op, payer),
    ]
    entry = ledger_api.entry_post(
        external_ref=ref(op, "post"),
        postings=lines,
        description=op.request.get("description") or "Transfer",
        metadata={"operation_id": op.public_id, "kind": "transfer"},
    )
    op.entry_id = entry.id
    transactions.record_entry(entry)
    op.succeed()


class Transfer(Workflow):
    POST = Step("post", _transfer_post)

    def money_step(self, op):
        return self.POST if op.status in (OperationStatus.RISK_APPROVED, OperationStatus.HELD) else None


# --- cash-out ------------------------------------------------------------------------------------------


def _cash_out_hold(op: Operation) -> None:
    _hold(op, credit_code=HOLD_CREDIT["cash_out"])
    op.hold()


def _payout_submit(op: Operation) -> None:
    """Record the payout and hand it to the adapter after commit (a crash in between is found
    by the resume sweep: the payout is then submitted again under the same id)."""
    payout, _ = Payout.objects.get_or_create(
        operation=op,
        defaults={
            "adapter": product_config().routing.get("payout", "sandbox"),
            "destination": op.request.get("destination") or {},
            "amount": op.amount,
            "currency": op.currency,
        },
    )
    op.payout_id = payout.public_id
    op.submit()
    operation_wait(op, config_get("products.payout_poll_seconds"))
    dispatch.submit_payout_after_commit(payout.public_id)


def _payout_settle(op: Operation) -> None:
    payout = Payout.objects.get(operation=op)
    if payout.status == PayoutStatus.FAILED:
        raise BusinessRuleViolation(
            f"The payout failed: {payout.failure_reason}.",
            code="payout_failed",
            errors=[FieldError("destination", payout.failure_reason or "Refused.", "payout_failed")],
        )
    _capture_with_fee(op, description=f"Cash-out {op.public_id}")
    op.succeed()


def _payout_poll(op: Operation) -> None:
    """The payout's answer is overdue (or its submission was lost): ask the adapter again,
    outside this transaction."""
    dispatch.poll_payout_after_commit(op.payout_id)
    operation_wait(op, config_get("products.payout_poll_seconds"))


class CashOut(Workflow):
    HOLD = Step("hold", _cash_out_hold)
    SUBMIT = Step("payout_submit", _payout_submit)
    SETTLE = Step("payout_settle", _payout_settle)
    POLL = Step("payout_poll", _payout_poll)

    def money_step(self, op):
        if op.status == OperationStatus.RISK_APPROVED:
            return self.HOLD
        if op.status == OperationStatus.HELD:
            return self.SUBMIT
        if op.status == OperationStatus.SUBMITTED:
            status = Payout.objects.filter(operation=op).values_list("status", flat=True).first()
            return self.POLL if status == PayoutStatus.SUBMITTED else self.SETTLE
        return None


# --- QR payment ----------------------------------------------------------------------------------------


def _qr_pay(op: Operation) -> None:
    payment = qrph_api.qr_payment_initiate(
        payer_wallet_id=op.wallet_id, payload=op.request["payload"], amount=op.amount, reference=op.public_id
    )
    op.qr_payment_id, op.qr_route = payment.id, payment.route
    if payment.route == "on_us":
        _hold_release(op)
        payer = wallet_account(op.wallet_id)
        op.counterparty_wallet_id = payment.receiving_wallet_id
        lines = [
            ledger_api.Line(payer, "debit", op.amount, op.currency),
            ledger_api.Line(wallet_account(payment.receiving_wallet_id), "credit", op.amount, op.currency),
            *_fee_lines(op, payer),
        ]
        entry = ledger_api.entry_post(
            external_ref=ref(op, "post"),
            postings=lines,
            description=f"QR payment {payment.id}",
            metadata={"operation_id": op.public_id, "qr_payment_id": payment.id},
        )
        op.entry_id = entry.id
        transactions.record_entry(entry)
        qrph_api.qr_payment_confirm(payment_id=payment.id, settlement_reference=entry.id)
        op.succeed()
        return
    if not op.hold_id:
        _hold(op, credit_code=HOLD_CREDIT["qr_payment"])
    op.submit()
    operation_wait(op, config_get("products.qr_poll_seconds"))


def _qr_settle(op: Operation) -> None:
    payment = qrph_api.qr_payment_status(payment_id=op.qr_payment_id)
    if payment.status == "failed":
        raise BusinessRuleViolation(
            f"The QR Ph network refused the payment: {payment.failure_reason}.",
            code="qr_payment_failed",
            errors=[FieldError("payload", payment.failure_reason or "Refused.", "qr_payment_failed")],
        )
    if payment.status == "pending":  # still with the network: qrph reconciles it; look again later
        operation_wait(op, config_get("products.qr_poll_seconds"))
        return
    _capture_with_fee(op, description=f"QR payment {payment.id}")
    op.succeed()


class QrPayment(Workflow):
    PAY = Step("qr_pay", _qr_pay, audited=True)
    SETTLE = Step("qr_settle", _qr_settle)

    def money_step(self, op):
        if op.status in (OperationStatus.RISK_APPROVED, OperationStatus.HELD):
            return self.PAY
        if op.status == OperationStatus.SUBMITTED:
            return self.SETTLE
        return None


# --- wallet close ----------------------------------------------------------------------------------------


def wallet_close_step(op: Operation) -> None:
    account = wallet_account(op.wallet_id)
    ledger_api.account_close(account_id=account)
    balance = ledger_api.balance_get(account_id=account)
    wallets_api.wallet_close(
        wallet_id=op.wallet_id,
        reason=op.request["reason"],
        closing_balance=wallets_api.ClosingBalance(
            ledger_account_id=balance.account_id, posted=balance.posted, held=balance.held, sequence=balance.sequence
        ),
    )
    op.succeed()


class WalletClose(Workflow):
    def step_for(self, op):
        if op.status == OperationStatus.COMPENSATING:
            return COMPENSATE
        return None  # closed in its first step


WORKFLOWS = {
    "cash_in": CashIn(),
    "transfer": Transfer(),
    "cash_out": CashOut(),
    "qr_payment": QrPayment(),
    "wallet_close": WalletClose(),
}
