"""Property-based: random sequences of posts, holds, captures, releases, expiries and reversals
keep every invariant of a double-entry ledger, checked after every step and by ledger_verify."""

import itertools
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from contexts.ledger import api
from contexts.ledger.api import Line
from contexts.ledger.holds import holds_expire_due
from contexts.ledger.verify import ledger_verify
from finfactory.errors import BusinessRuleViolation, Conflict
from finfactory.events.catalog import validate_payload
from finfactory.outbox.models import OutboxEvent

EXPECTED_REFUSALS = {
    "insufficient_funds", "max_balance_exceeded", "already_reversed", "reversal_exceeds_original",
    "hold_captured", "hold_released", "hold_expired", "capture_exceeds_hold",
}  # fmt: skip
_refs = itertools.count()
amounts = st.integers(min_value=1, max_value=5_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.php_float = api.system_account(code="float", currency="PHP").id
        self.usd_float = api.system_account(code="float", currency="USD").id
        self.fees = api.system_account(code="fees", currency="PHP").id
        self.wallets = [
            api.account_open(currency="PHP", type="liability").id,
            api.account_open(currency="PHP", type="liability").id,
            api.account_open(currency="PHP", type="liability", overdraft_limit=700).id,
            api.account_open(currency="PHP", type="liability", max_balance=9_000).id,
        ]
        self.usd_wallet = api.account_open(currency="USD", type="liability").id
        self.holds: list[str] = []
        self.entries: list[str] = []

    def teardown(self):
        report = ledger_verify()
        events = list(OutboxEvent.objects.values_list("type", "data"))
        transaction.savepoint_rollback(self.savepoint)
        assert report.ok, report.problems
        for type, data in events:  # payloads built in SQL or Python all keep their contract
            validate_payload(type, data)

    def _ref(self) -> str:
        return f"prop-{next(_refs)}"

    def _attempt(self, call):
        try:
            return call()
        except (BusinessRuleViolation, Conflict) as refusal:
            assert refusal.code in EXPECTED_REFUSALS, refusal.code
            return None

    def _record(self, entry):
        if entry is not None:
            self.entries.append(entry.id)

    @rule(wallet=st.integers(0, 3), amount=amounts)
    def cash_in(self, wallet, amount):
        self._record(self._attempt(lambda: api.transfer(
            external_ref=self._ref(), debit_account_id=self.php_float, credit_account_id=self.wallets[wallet],
            amount=amount, currency="PHP",
        )))  # fmt: skip

    @rule(source=st.integers(0, 3), payee=st.integers(0, 3), amount=amounts)
    def pay(self, source, payee, amount):
        if source != payee:
            self._record(self._attempt(lambda: api.transfer(
                external_ref=self._ref(), debit_account_id=self.wallets[source],
                credit_account_id=self.wallets[payee], amount=amount, currency="PHP",
            )))  # fmt: skip

    @rule(source=st.integers(0, 3), amount=amounts, fee=st.integers(1, 100), usd=st.integers(1, 50))
    def pay_with_fee_and_fund_usd(self, source, amount, fee, usd):
        self._record(self._attempt(lambda: api.entry_post(
            external_ref=self._ref(),
            postings=[
                Line(self.wallets[source], "debit", amount + fee, "PHP"),
                Line(self.wallets[(source + 1) % 4], "credit", amount, "PHP"),
                Line(self.fees, "credit", fee, "PHP"),
                Line(self.usd_float, "debit", usd, "USD"),
                Line(self.usd_wallet, "credit", usd, "USD"),
            ],
        )))  # fmt: skip

    @rule(source=st.integers(0, 3), amount=amounts)
    def hold(self, source, amount):
        hold = self._attempt(lambda: api.hold_create(
            external_ref=self._ref(), account_id=self.wallets[source], credit_account_id=self.fees,
            amount=amount, currency="PHP", expires_at=timezone.now() + timedelta(hours=1),
        ))  # fmt: skip
        if hold is not None:
            self.holds.append(hold.id)

    @precondition(lambda self: self.holds)
    @rule(data=st.data(), partial=st.booleans())
    def capture(self, data, partial):
        hold_id = data.draw(st.sampled_from(self.holds))
        amount = data.draw(st.integers(1, 6_000)) if partial else None
        result = self._attempt(lambda: api.hold_capture(hold_id=hold_id, external_ref=self._ref(), amount=amount))
        if result is not None and result.capture_entry_id:
            self.entries.append(result.capture_entry_id)

    @precondition(lambda self: self.holds)
    @rule(data=st.data())
    def release(self, data):
        hold_id = data.draw(st.sampled_from(self.holds))
        self._attempt(lambda: api.hold_release(hold_id=hold_id))

    @rule()
    def expire_everything_due_in_two_hours(self):
        holds_expire_due(now=timezone.now() + timedelta(hours=2))

    @precondition(lambda self: self.entries)
    @rule(data=st.data(), partial=st.booleans())
    def reverse(self, data, partial):
        entry_id = data.draw(st.sampled_from(self.entries))
        amount = data.draw(st.integers(1, 3_000)) if partial else None
        original = api.entry_get(entry_id=entry_id)
        if amount is not None and len(original.postings) != 2:
            amount = None
        if original.kind == "reversal":
            return
        self._attempt(lambda: api.entry_reverse(entry_id=entry_id, external_ref=self._ref(), amount=amount))

    @invariant()
    def debits_equal_credits_in_every_entry_and_currency(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT 1 FROM ledger_posting GROUP BY entry_id, currency"
                " HAVING sum(CASE WHEN direction = 'D' THEN amount ELSE -amount END) <> 0) unbalanced"
            )
            assert cursor.fetchone()[0] == 0

    @invariant()
    def balances_sum_to_zero_per_currency(self):
        assert all(row.difference == 0 for row in api.trial_balance())

    @invariant()
    def no_constrained_account_is_below_its_floor_and_available_is_posted_minus_active_holds(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.public_id, a.posted, a.held, a.overdraft_limit, a.max_balance,"
                " coalesce((SELECT sum(h.amount) FROM ledger_hold h WHERE h.account_id = a.id"
                " AND h.status = 'active'), 0) FROM ledger_account a"
            )
            for public_id, posted, held, overdraft, max_balance, active in cursor.fetchall():
                balance = api.balance_get(account_id=public_id)
                assert balance.held == held == active
                assert balance.available == posted - active
                if overdraft is not None:
                    assert balance.available >= -overdraft, public_id
                if max_balance is not None:
                    assert posted <= max_balance


def test_random_histories_keep_the_ledger_sound(ledger):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
