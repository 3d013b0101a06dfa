"""The tenant's QR configuration, merchant profiles, issued codes and their images."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contexts.qrph import api
from contexts.qrph.models import QrphSettings
from finfactory.audit.models import AuditRecord
from finfactory.errors import Conflict, InvalidInput, NotFound

from .conftest import events, wallet_id, written


def test_the_configuration_starts_with_a_sandbox_bic_of_the_tenant_and_the_sandbox_network(qrph):
    config = api.qrph_settings_get()

    assert (config.bic[:8], len(config.bic), config.network) == ("FNFYPHM2", 11, "sandbox")
    assert api.qrph_settings_get().bic == config.bic  # one row, created once
    assert QrphSettings.objects.count() == 1


def test_changing_the_bic_is_validated_and_audited(qrph):
    api.qrph_settings_get()
    before = written()

    with pytest.raises(InvalidInput) as refused:
        api.qrph_settings_update(bic="NOTPHBIC", reason="rebrand")

    assert [(e.field, e.code) for e in refused.value.errors] == [("bic", "invalid")]
    assert written() == before
    updated = api.qrph_settings_update(bic="ACMEPHMMXXX", reason="Own BIC assigned")
    assert (updated.bic, updated.network) == ("ACMEPHMMXXX", "sandbox")
    record = AuditRecord.objects.filter(action="qrph_settings.updated").get()
    assert (record.before["bic"], record.after["bic"], record.reason) == (before["settings"][0]["bic"], "ACMEPHMMXXX",
                                                                          "Own BIC assigned")  # fmt: skip


def test_a_merchant_profile_gets_a_15_digit_merchant_id_and_is_audited(merchant):
    wallet = wallet_id()

    profile = merchant(wallet_id=wallet, name="Sari-Sari ni Aling Nena", city="Quezon City", mcc="5411")

    assert (profile.wallet_id, profile.name, profile.city, profile.mcc, profile.scheme) == (
        wallet, "Sari-Sari ni Aling Nena", "Quezon City", "5411", "p2m"
    )  # fmt: skip
    assert profile.id.startswith("qrm_") and len(profile.merchant_id) == 15 and profile.merchant_id.isdigit()
    assert api.merchant_profile_for_wallet(wallet_id=wallet) == profile
    assert AuditRecord.objects.filter(action="merchant_profile.created", target_id=profile.id).count() == 1


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "N" * 26}, ("name", "too_long")),
        ({"name": ""}, ("name", "required")),
        ({"name": "Café Niño"}, ("name", "invalid")),
        ({"city": "C" * 16}, ("city", "too_long")),
        ({"mcc": "58A2"}, ("mcc", "invalid")),
        ({"scheme": "p2b"}, ("scheme", "invalid")),
        ({"wallet_id": ""}, ("wallet_id", "invalid")),
        ({"postal_code": "12345678901"}, ("postal_code", "too_long")),
    ],
)
def test_a_bad_merchant_field_is_refused_by_name_and_nothing_is_written(merchant, fields, expected):
    before = written()

    with pytest.raises(InvalidInput) as refused:
        merchant(**fields)

    assert [(e.field, e.code) for e in refused.value.errors] == [expected]
    assert written() == before


def test_a_wallet_has_one_merchant_profile_and_updates_are_audited(merchant):
    profile = merchant()
    before = written()

    with pytest.raises(Conflict) as refused:
        merchant(wallet_id=profile.wallet_id)
    updated = api.merchant_profile_update(merchant_profile_id=profile.id, name="Kape Tayo 2", mcc="5814")

    assert (refused.value.code, refused.value.extra) == ("merchant_profile_exists", {"merchant_profile_id": profile.id})
    assert (updated.name, updated.mcc, updated.city, updated.merchant_id) == (
        "Kape Tayo 2", "5814", "Makati", profile.merchant_id
    )  # fmt: skip
    assert written()["audit"] == before["audit"] + 1
    with pytest.raises(NotFound) as missing:
        api.merchant_profile_get(merchant_profile_id="qrm_00000000000000000000000000")
    assert missing.value.code == "merchant_profile_not_found"


def test_a_static_code_carries_the_tenants_bic_and_merchant_and_is_issued_once(merchant):
    profile = merchant(name="Kape Tayo", city="Makati", mcc="5812", postal_code="1226")
    bic = api.qrph_settings_get().bic

    code = api.qr_generate(merchant_profile_id=profile.id)
    again = api.qr_generate(merchant_profile_id=profile.id)
    decoded = api.qr_decode(payload=code.payload)

    assert (code.type, code.amount, code.currency, code.wallet_id, code.replayed) == (
        "static", None, "PHP", profile.wallet_id, False
    )  # fmt: skip
    assert (again.id, again.payload, again.replayed) == (code.id, code.payload, True)
    assert (decoded.qrph.scheme, decoded.qrph.guid, decoded.qrph.bic, decoded.qrph.merchant_id) == (
        "p2m", "ph.ppmi.p2m", bic, profile.merchant_id
    )  # fmt: skip
    assert (decoded.point_of_initiation, decoded.mcc, decoded.merchant_name, decoded.merchant_city) == (
        "static", "5812", "Kape Tayo", "Makati"
    )  # fmt: skip
    assert (decoded.postal_code, decoded.currency_numeric, decoded.country) == ("1226", "608", "PH")
    assert events() == [
        ("qr.generated", code.id, {"qr_code_id": code.id, "merchant_profile_id": profile.id,
                                   "wallet_id": profile.wallet_id, "type": "static", "amount": None,
                                   "currency": "PHP", "expires_at": None}),
    ]  # fmt: skip


def test_dynamic_codes_of_one_amount_are_distinct_and_carry_their_expiry(merchant):
    profile = merchant(scheme="p2p", mcc="6016")
    expires_at = timezone.now() + timedelta(minutes=15)

    first = api.qr_generate(merchant_profile_id=profile.id, amount=250_00, expires_at=expires_at)
    second = api.qr_generate(merchant_profile_id=profile.id, amount=250_00)
    decoded = api.qr_decode(payload=first.payload)

    assert first.payload != second.payload
    assert (first.type, first.amount, first.expires_at, second.expires_at) == ("dynamic", 25000, expires_at, None)
    assert (decoded.point_of_initiation, decoded.amount_text, decoded.amount) == ("dynamic", "250.00", 25000)
    assert (decoded.qrph.tag, decoded.qrph.guid, decoded.reference_label) == ("27", "com.p2pqrpay", first.id[-25:])
    assert events()[0][2]["expires_at"] == expires_at.isoformat()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amount": 0}, ("amount", "amount_out_of_range")),
        ({"amount": 10**12}, ("amount", "amount_out_of_range")),
        ({"amount": 1.5}, ("amount", "invalid_amount")),
        ({"expires_at": "tomorrow", "amount": 100}, ("expires_at", "invalid")),
        ({"expires_at": timezone.now() - timedelta(seconds=1), "amount": 100}, ("expires_at", "in_the_past")),
        ({"expires_at": timezone.now() + timedelta(hours=1)}, ("expires_at", "expiry_needs_amount")),
    ],
)
def test_a_bad_code_request_is_refused_by_name_and_nothing_is_written(merchant, fields, expected):
    profile = merchant()
    before = written()

    with pytest.raises(InvalidInput) as refused:
        api.qr_generate(merchant_profile_id=profile.id, **fields)

    assert [(e.field, e.code) for e in refused.value.errors] == [expected]
    assert written() == before


def test_a_code_renders_as_png_and_svg(merchant):
    code = api.qr_generate(merchant_profile_id=merchant().id, amount=99_99)

    png = api.qr_image(payload=code.payload, format="png", scale=4)
    svg = api.qr_image(payload=code.payload, format="svg")

    assert png.content_type == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert svg.content_type == "image/svg+xml" and svg.data.startswith(b"<svg") and b"</svg>" in svg.data
    with pytest.raises(InvalidInput) as refused:
        api.qr_image(payload=code.payload, format="gif")
    assert refused.value.errors[0].field == "format"
    with pytest.raises(api.InvalidQr):
        api.qr_image(payload=code.payload[:-1] + "0")
