"""Request and response shapes of `/internal/ledger/`. Responses are built from the ledger's DTOs.

Requests are strict (unknown fields are 400 `unknown_field`, amounts are JSON integers); the
ledger checks the rest (currencies, account ids, balance, metadata) and names the field itself.
"""

from rest_framework import serializers

from contexts.ledger.api import Line
from finfactory.api.serializers import ObjectTypeField, StrictIntegerField, StrictSerializer
from finfactory.money import MAX_AMOUNT

ACCOUNT_TYPES = ("asset", "liability", "equity", "revenue", "expense")
DIRECTIONS = ("debit", "credit")


def _text(max_length: int, **kwargs) -> serializers.CharField:
    # Passed through as sent: a reference with surrounding spaces is another reference.
    return serializers.CharField(max_length=max_length, trim_whitespace=False, **kwargs)


def _optional_text(max_length: int) -> serializers.CharField:
    return _text(max_length, required=False, allow_blank=True)


def _amount(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(
        min_value=1, max_value=MAX_AMOUNT, help_text="Integer minor units (PHP 10.50 is 1050).", **kwargs
    )


def _metadata() -> serializers.DictField:
    return serializers.DictField(
        required=False, help_text="A small JSON object (≤ 4 KiB; strings, integers, booleans, nulls)."
    )


# --- requests ----------------------------------------------------------------------------------


class AccountOpenIn(StrictSerializer):
    currency = _text(3, help_text="ISO 4217 code, e.g. PHP.")
    type = serializers.ChoiceField(choices=ACCOUNT_TYPES)
    owner_ref = _optional_text(100)
    name = _optional_text(200)
    overdraft_limit = StrictIntegerField(
        min_value=0, max_value=MAX_AMOUNT, required=False, allow_null=True,
        help_text="Available may not fall below -limit; null: no floor (liabilities default to 0).",
    )  # fmt: skip
    max_balance = StrictIntegerField(
        min_value=0, max_value=MAX_AMOUNT, required=False, allow_null=True, help_text="Ceiling of posted; null: none."
    )


class PostingLineIn(StrictSerializer):
    account_id = _text(40)
    direction = serializers.ChoiceField(choices=DIRECTIONS)
    amount = _amount()
    currency = _text(3)


class EntryPostIn(StrictSerializer):
    external_ref = _text(200, help_text="Unique per tenant: a retry with the same request returns the first entry.")
    postings = PostingLineIn(many=True, min_length=2, max_length=100)
    description = _optional_text(500)
    metadata = _metadata()
    effective_at = serializers.DateTimeField(required=False, allow_null=True)

    def lines(self) -> list[Line]:
        return [
            Line(account_id=p["account_id"], direction=p["direction"], amount=p["amount"], currency=p["currency"])
            for p in self.validated_data["postings"]
        ]


class ReversalIn(StrictSerializer):
    external_ref = _text(200)
    amount = _amount(required=False, allow_null=True)
    description = _optional_text(500)
    metadata = _metadata()


class TransferIn(StrictSerializer):
    external_ref = _text(200)
    debit_account_id = _text(40)
    credit_account_id = _text(40)
    amount = _amount()
    currency = _text(3)
    description = _optional_text(500)
    metadata = _metadata()


class HoldCreateIn(StrictSerializer):
    external_ref = _text(200)
    account_id = _text(40, help_text="The account whose available funds are reserved (debited at capture).")
    credit_account_id = _text(40, help_text="The account credited at capture.")
    amount = _amount()
    currency = _text(3)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Default 7 days, at most 31.")
    description = _optional_text(500)
    metadata = _metadata()


class HoldCaptureIn(StrictSerializer):
    external_ref = _text(200)
    amount = _amount(required=False, allow_null=True)
    description = _optional_text(500)
    metadata = _metadata()


class EmptyIn(StrictSerializer):
    """Operations without a body: any field is refused."""


class StatementQuery(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Inclusive, ISO 8601.")
    end = serializers.DateTimeField(help_text="Exclusive, ISO 8601.")


# --- responses ---------------------------------------------------------------------------------


class AccountOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("ledger_account")
    currency = serializers.CharField()
    type = serializers.CharField()
    normal_balance = serializers.CharField()
    name = serializers.CharField()
    owner_ref = serializers.CharField()
    system_code = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    overdraft_limit = serializers.IntegerField(allow_null=True)
    max_balance = serializers.IntegerField(allow_null=True)
    posted = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()
    last_sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class AccountListOut(serializers.Serializer):
    data = AccountOut(many=True)
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True)


class BalanceOut(serializers.Serializer):
    object = ObjectTypeField("ledger_balance")
    account_id = serializers.CharField()
    currency = serializers.CharField()
    posted = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()
    sequence = serializers.IntegerField()


class PostingOut(serializers.Serializer):
    object = ObjectTypeField("ledger_posting")
    entry_id = serializers.CharField()
    line = serializers.IntegerField()
    account_id = serializers.CharField()
    direction = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    sequence = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    posted_at = serializers.DateTimeField()


class PostingPageOut(serializers.Serializer):
    data = PostingOut(many=True)
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True)


class EntryOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("ledger_entry")
    external_ref = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.DictField()
    effective_at = serializers.DateTimeField()
    posted_at = serializers.DateTimeField()
    reverses_id = serializers.CharField(allow_null=True)
    hold_id = serializers.CharField(allow_null=True)
    postings = PostingOut(many=True)
    hash = serializers.CharField()


class HoldOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("ledger_hold")
    external_ref = serializers.CharField()
    account_id = serializers.CharField()
    credit_account_id = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    captured_amount = serializers.IntegerField()
    status = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.DictField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    capture_entry_id = serializers.CharField(allow_null=True)


class StatementLineOut(serializers.Serializer):
    sequence = serializers.IntegerField()
    entry_id = serializers.CharField()
    external_ref = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    direction = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    posted_at = serializers.DateTimeField()
    effective_at = serializers.DateTimeField()


class StatementHeaderOut(serializers.Serializer):
    object = ObjectTypeField("ledger_statement")
    account_id = serializers.CharField()
    currency = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    opening_balance = serializers.IntegerField()
    closing_balance = serializers.IntegerField()
    line_count = serializers.IntegerField()


class StatementOut(StatementHeaderOut):
    """The streamed document: the header, then `lines` written as they are read."""

    lines = StatementLineOut(many=True, help_text="In account sequence order; line_count of them.")


class TrialBalanceRowOut(serializers.Serializer):
    currency = serializers.CharField()
    debit_normal_total = serializers.IntegerField(help_text="Σ posted of asset and expense accounts.")
    credit_normal_total = serializers.IntegerField(help_text="Σ posted of liability, equity and revenue accounts.")
    difference = serializers.IntegerField(help_text="debit_normal_total - credit_normal_total; 0 when sound.")
    accounts = serializers.IntegerField()


class TrialBalanceOut(serializers.Serializer):
    object = ObjectTypeField("ledger_trial_balance")
    balanced = serializers.BooleanField(help_text="Every currency's difference is zero.")
    data = TrialBalanceRowOut(many=True)
