"""Real third-party payloads (/work/shared/data/emv_qr_samples.tsv, or QRPH_SAMPLES): every valid
one decodes with a good CRC and re-encodes to the identical string; every invalid one is refused
with the documented error. One test per row, named by its label."""

import os
from pathlib import Path

import pytest

from contexts.qrph.codec import qr_payload_decode, qr_payload_encode
from contexts.qrph.emv import crc_of
from contexts.qrph.errors import InvalidQr

SAMPLES = Path(os.environ.get("QRPH_SAMPLES", "/work/shared/data/emv_qr_samples.tsv"))
# (field, sub-code) each invalid row must be refused with.
EXPECTED_REFUSALS = {
    "X01": ("tag_63", "bad_crc"),  # GUID altered to ph.dpmi.p2m, CRC left as it was
    "X03": ("tag_63", "bad_format"),  # CRC "XXXX" is not hexadecimal
    "X05": ("tag_63", "bad_length"),  # truncated inside the CRC tag
}


def _rows() -> list:
    rows = []
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, kind, _source, payload = line.split("\t")
        rows.append(pytest.param(kind, payload, id=label))
    return rows


ROWS = _rows()
VALID = [row for row in ROWS if row.values[0] == "valid"]
INVALID = [row for row in ROWS if row.values[0] == "invalid"]


def test_the_sample_file_has_both_kinds_and_every_invalid_row_has_an_expected_refusal():
    assert len(VALID) >= 18 and len(INVALID) >= 3
    assert {row.id for row in INVALID} == set(EXPECTED_REFUSALS)


@pytest.mark.parametrize(("kind", "payload"), VALID)
def test_a_valid_sample_decodes_with_a_good_crc_and_re_encodes_identically(kind, payload):
    decoded = qr_payload_decode(payload)

    assert decoded.crc == payload[-4:] == crc_of(payload[:-4])
    assert decoded.crc_valid is True
    assert qr_payload_encode(decoded.objects) == payload
    assert "".join(obj.encoded() for obj in decoded.objects) == payload


@pytest.mark.parametrize(("kind", "payload"), INVALID)
def test_an_invalid_sample_is_refused_with_the_documented_error(request, kind, payload):
    label = request.node.callspec.id

    with pytest.raises(InvalidQr) as refused:
        qr_payload_decode(payload)

    assert (refused.value.code, refused.value.status) == ("invalid_qr", 422)
    assert [(e.field, e.code) for e in refused.value.errors] == [EXPECTED_REFUSALS[label]]


def test_the_qr_ph_samples_read_as_qr_ph_with_their_bic_and_merchant_id():
    by_label = {row.id: qr_payload_decode(row.values[1]) for row in VALID}

    p2m, p2p, dynamic = by_label["PH01"], by_label["PH03"], by_label["PH18"]
    assert (p2m.qrph.scheme, p2m.qrph.tag, p2m.qrph.guid, p2m.qrph.bic, p2m.qrph.merchant_id) == (
        "p2m", "28", "ph.ppmi.p2m", "GXCHPHM2XXX", "217020000054698716099"
    )  # fmt: skip
    assert (p2m.point_of_initiation, p2m.amount, p2m.mcc, p2m.merchant_name, p2m.merchant_city) == (
        "static", None, "5814", "S and R MBTC 9182", "Taguig"
    )  # fmt: skip
    assert (p2p.qrph.scheme, p2p.qrph.bic, p2p.qrph.merchant_id, p2p.amount) == (
        "p2p", "BNORPHMMXXX", "5267270022100867", 60000
    )  # fmt: skip
    assert (dynamic.point_of_initiation, dynamic.amount_text, dynamic.amount, dynamic.currency) == (
        "dynamic", "50000.00", 5_000_000, "PHP"
    )  # fmt: skip
    assert p2m.additional_data[0] == ("00", "ph.ppmi.qrph")


def test_other_schemes_decode_with_their_unknown_templates_kept_raw():
    by_label = {row.id: qr_payload_decode(row.values[1]) for row in VALID}

    unionpay = by_label["EM01"]
    assert unionpay.qrph is None
    assert [(a.tag, a.guid, a.scheme) for a in unionpay.merchant_accounts] == [
        ("29", "D15600000000", None), ("31", "D15600000001", None)
    ]  # fmt: skip
    assert (unionpay.currency, unionpay.currency_numeric, unionpay.amount, unionpay.country) == (
        "CNY",
        "156",
        2372,
        "CN",
    )
    assert (unionpay.language.preference, unionpay.language.merchant_name, unionpay.language.merchant_city) == (
        "ZH", "最佳运输", "北京"
    )  # fmt: skip
    assert [obj.tag for obj in unionpay.objects] == [
        "00", "01", "29", "31", "52", "58", "59", "60", "64", "54", "53", "55", "62", "91", "63"
    ]  # fmt: skip
    promptpay = by_label["TH06"]
    assert (promptpay.mcc, promptpay.merchant_name, promptpay.currency, promptpay.amount) == (None, None, "THB", 422)
