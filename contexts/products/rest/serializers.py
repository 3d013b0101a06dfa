"""The unified API's request and response shapes (API.md). Requests are strict (an unknown field is
a 400 naming it); the primitives' api functions do the deep checks and name the field they refuse."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from finfactory.api.serializers import ObjectTypeField, StrictIntegerField, StrictSerializer

_AMOUNT = {"min_value": 1, "help_text": "Minor units of the currency (PHP 100.00 → 10000)."}
# Taken as sent: " PHP" or "PHP\n" is not a currency code (DRF would strip it to one).
_CURRENCY = {"min_length": 3, "max_length": 3, "trim_whitespace": False, "help_text": "ISO 4217 code in capitals."}


class Page(serializers.Serializer):
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True)


def page_of(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    return type(name, (Page,), {"data": item(many=True)})


# --- customers -------------------------------------------------------------------------------------


class AddressIn(StrictSerializer):
    line1 = serializers.CharField()
    line2 = serializers.CharField(required=False, allow_blank=True)
    city = serializers.CharField()
    region = serializers.CharField(required=False, allow_blank=True)
    postal_code = serializers.CharField(required=False, allow_blank=True)
    country = serializers.CharField(min_length=2, max_length=2)


class CustomerIn(StrictSerializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(required=False, allow_null=True, help_text="E.164, e.g. +639171234567.")
    birth_date = serializers.CharField(required=False, allow_null=True, help_text="YYYY-MM-DD.")
    address = AddressIn(required=False, allow_null=True)
    external_id = serializers.CharField(required=False, allow_null=True, max_length=100)


class CustomerOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("customer")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField(allow_null=True)
    birth_date = serializers.DateField(allow_null=True)
    external_id = serializers.CharField(allow_null=True)
    kyc_status = serializers.CharField(help_text="not_started | pending | verified | rejected | expired")
    kyc_level = serializers.CharField(help_text="none | basic | full")
    created_at = serializers.DateTimeField()


class KycIn(StrictSerializer):
    id_type = serializers.CharField(help_text="passport | national_id | drivers_license | tax_id | social_security")
    id_number = serializers.CharField()
    level = serializers.CharField(required=False, help_text="basic | full (default full).")


class KycOut(serializers.Serializer):
    customer_id = serializers.CharField()
    object = ObjectTypeField("kyc")
    kyc_status = serializers.CharField(source="status")
    kyc_level = serializers.CharField(source="level")
    attempts = serializers.IntegerField()
    resubmissions_left = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


# --- wallets ---------------------------------------------------------------------------------------


class WalletIn(StrictSerializer):
    customer_id = serializers.CharField()
    currency = serializers.CharField(**_CURRENCY)


class WalletOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("wallet")
    customer_id = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="active | suspended | closed")
    tier = serializers.CharField()
    kyc_level = serializers.CharField()
    created_at = serializers.DateTimeField()


class WalletStatusIn(StrictSerializer):
    reason = serializers.CharField(required=False, max_length=500)


class WalletBalanceOut(serializers.Serializer):
    wallet_id = serializers.CharField()
    object = ObjectTypeField("balance")
    currency = serializers.CharField()
    available = serializers.IntegerField()
    posted = serializers.IntegerField()
    held = serializers.IntegerField()


# --- money movement --------------------------------------------------------------------------------


class _Movement(StrictSerializer):
    amount = StrictIntegerField(**_AMOUNT)
    currency = serializers.CharField(**_CURRENCY)


class CashInIn(_Movement):
    wallet_id = serializers.CharField()
    channel = serializers.CharField(required=False, help_text="agent | app | web | api | pos (default agent).")
    reference = serializers.CharField(required=False, max_length=200, help_text="Your own reference.")


class CashOutIn(_Movement):
    wallet_id = serializers.CharField()
    destination = serializers.DictField(required=False, help_text="Where the money goes, e.g. bank and account.")


class WalletTransferIn(_Movement):
    source_wallet_id = serializers.CharField()
    destination_wallet_id = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)


class OperationOut(serializers.Serializer):
    """Common shape of cash-ins, cash-outs, transfers and QR payments."""

    id = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    fee = serializers.IntegerField()
    currency = serializers.CharField()
    transaction_id = serializers.CharField(allow_null=True, help_text="The ledger entry that moved the money.")
    failure_code = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class CashInOut(OperationOut):
    object = ObjectTypeField("cash_in")
    wallet_id = serializers.CharField()
    reference = serializers.CharField(allow_null=True)


class CashOutOut(OperationOut):
    object = ObjectTypeField("cash_out")
    wallet_id = serializers.CharField()
    destination = serializers.DictField()


class WalletTransferOut(OperationOut):
    object = ObjectTypeField("transfer")
    source_wallet_id = serializers.CharField()
    destination_wallet_id = serializers.CharField()
    description = serializers.CharField()


# --- QR Ph -----------------------------------------------------------------------------------------


class EmvTextField(serializers.CharField):
    """Text printed in a QR code (EMV `ans`): printable ASCII without leading or trailing spaces,
    refused here under the API's own field name (the QR context names its fields `name`, `city`)."""

    NOT_ANS = "Printable ASCII characters without leading or trailing spaces."

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.isascii() or not value.isprintable() or value != value.strip():
            raise serializers.ValidationError(self.NOT_ANS, code="invalid")
        return value


class QrCodeIn(StrictSerializer):
    wallet_id = serializers.CharField()
    amount = StrictIntegerField(required=False, allow_null=True, **_AMOUNT)
    merchant_name = EmvTextField(max_length=25)
    merchant_city = EmvTextField(max_length=15)
    mcc = serializers.CharField(required=False, min_length=4, max_length=4)


class QrCodeOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("qr_code")
    wallet_id = serializers.CharField()
    type = serializers.CharField(help_text="static | dynamic")
    amount = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    payload = serializers.CharField(help_text="The EMVCo merchant-presented QR string.")
    image_png_base64 = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class QrDecodeIn(StrictSerializer):
    payload = serializers.CharField()


class MerchantAccountOut(serializers.Serializer):
    tag = serializers.CharField()
    guid = serializers.CharField(allow_null=True)
    scheme = serializers.CharField(allow_null=True)
    bic = serializers.CharField(allow_null=True)
    merchant_id = serializers.CharField(allow_null=True)


@extend_schema_field({"type": "array", "items": {"type": "array", "items": {"type": "string"}}})
class PairsField(serializers.Field):
    def to_representation(self, value):
        return [list(pair) for pair in value]


class QrDecodedOut(serializers.Serializer):
    payload_format_indicator = serializers.CharField()
    point_of_initiation = serializers.CharField(allow_null=True)
    merchant_accounts = MerchantAccountOut(many=True)
    mcc = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True)
    country = serializers.CharField()
    merchant_name = serializers.CharField(allow_null=True)
    merchant_city = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    additional_data = PairsField()
    crc_valid = serializers.BooleanField()


class QrPaymentIn(StrictSerializer):
    wallet_id = serializers.CharField()
    payload = serializers.CharField()
    amount = StrictIntegerField(required=False, allow_null=True, **_AMOUNT)


class QrPaymentOut(OperationOut):
    object = ObjectTypeField("qr_payment")
    wallet_id = serializers.CharField()
    route = serializers.CharField(allow_null=True, help_text="on_us | off_us")
    merchant_wallet_id = serializers.CharField(allow_null=True, help_text="On-us: the merchant's wallet.")
    network_payment_id = serializers.CharField(
        allow_null=True, help_text="QR Ph's own payment id (`payment_id` of the qr.payment.* events)."
    )


# --- transactions ----------------------------------------------------------------------------------


class TransactionOut(serializers.Serializer):
    id = serializers.CharField()
    object = ObjectTypeField("transaction")
    wallet_id = serializers.CharField()
    type = serializers.CharField()
    direction = serializers.CharField(help_text="credit | debit")
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    balance_after = serializers.IntegerField()
    reference_id = serializers.CharField(allow_null=True, help_text="The operation (cin_, trf_, …) it belongs to.")
    created_at = serializers.DateTimeField()


CustomerPage = page_of(CustomerOut, "CustomerPage")
WalletPage = page_of(WalletOut, "WalletPage")
TransactionPage = page_of(TransactionOut, "TransactionPage")
