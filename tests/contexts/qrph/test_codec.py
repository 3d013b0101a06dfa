"""The codec on hand-made codes: CRC, every documented refusal naming its tag, building QR Ph."""

import subprocess
import sys

import pytest

from contexts.qrph.codec import LanguageTemplate, qr_payload_decode, qr_payload_encode, qrph_payload_build
from contexts.qrph.emv import crc16_ccitt_false, crc_of
from contexts.qrph.errors import InvalidQr

BIC = "FNFYPHM2XXX"


def signed(body: str) -> str:
    """`body` (everything before tag 63) with a correct CRC appended."""
    return body + "6304" + crc_of(body + "6304")


def tlv(tag: str, value: str) -> str:
    return f"{tag}{len(value):02d}{value}"


P2M = tlv("28", tlv("00", "ph.ppmi.p2m") + tlv("01", BIC) + tlv("03", "123456789012345"))
HEAD = "000201" + "010211" + P2M
TAIL = tlv("52", "5812") + tlv("53", "608") + tlv("58", "PH") + tlv("59", "Kape Tayo") + tlv("60", "Makati")


def refusal(payload) -> tuple[str, str]:
    with pytest.raises(InvalidQr) as refused:
        qr_payload_decode(payload)
    assert (refused.value.code, refused.value.status, len(refused.value.errors)) == ("invalid_qr", 422, 1)
    return refused.value.errors[0].field, refused.value.errors[0].code


def test_crc16_ccitt_false_matches_the_standard_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc_of("") == "FFFF"


def test_the_crc_is_computed_over_utf8_bytes_while_lengths_count_characters():
    body = HEAD + TAIL + tlv("64", tlv("00", "ZH") + tlv("01", "咖啡") + tlv("02", "马卡蒂"))

    payload = signed(body)
    decoded = qr_payload_decode(payload)

    assert tlv("01", "咖啡") == "0102咖啡"
    assert decoded.crc == f"{crc16_ccitt_false((body + '6304').encode('utf-8')):04X}"
    assert (decoded.language.merchant_name, decoded.language.merchant_city) == ("咖啡", "马卡蒂")


def test_the_codec_imports_without_django():
    code = "import sys, contexts.qrph.codec; print(any(m.startswith('django') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param(None, ("payload", "bad_format"), id="not-text"),
        pytest.param(b"000201", ("payload", "bad_format"), id="bytes"),
        pytest.param("", ("payload", "bad_length"), id="empty"),
        pytest.param(signed(HEAD + TAIL) + "9" * 500, ("payload", "bad_length"), id="longer-than-512"),
        pytest.param("0002\ud80001", ("payload", "bad_format"), id="lone-surrogate"),
        pytest.param("AB" + signed(HEAD + TAIL), ("payload", "bad_format"), id="tag-not-digits"),
        pytest.param("00", ("tag_00", "bad_length"), id="no-length"),
        pytest.param("005X", ("tag_00", "bad_length"), id="length-not-digits"),
        pytest.param("0000" + signed(HEAD + TAIL), ("tag_00", "bad_length"), id="length-zero"),
        pytest.param("000501", ("tag_00", "bad_length"), id="past-the-end"),
        pytest.param(HEAD + TAIL, ("tag_63", "missing_tag"), id="no-crc"),
        pytest.param(signed(HEAD + TAIL)[:-1] + "0", ("tag_63", "bad_crc"), id="crc-mismatch"),
        pytest.param(signed(HEAD + TAIL)[:-4] + signed(HEAD + TAIL)[-4:].lower(), ("tag_63", "bad_format"),
                     id="crc-lower-case"),
        pytest.param(HEAD + TAIL + "6303123", ("tag_63", "bad_length"), id="crc-3-chars"),
        pytest.param(HEAD + TAIL + "6304ABCD" + tlv("99", "x"), ("tag_63", "bad_format"), id="crc-not-last"),
        pytest.param(signed("010211" + "000201" + P2M + TAIL), ("tag_00", "missing_tag"), id="00-not-first"),
        pytest.param(signed("000202" + P2M + TAIL), ("tag_00", "bad_value"), id="00-not-01"),
        pytest.param(signed("000201010213" + P2M + TAIL), ("tag_01", "bad_value"), id="01-not-11-or-12"),
        pytest.param(signed(HEAD + TAIL + tlv("59", "Twice")), ("tag_59", "duplicate_tag"), id="duplicate"),
        pytest.param(signed(HEAD.replace("5812", "") + TAIL.replace(tlv("52", "5812"), tlv("52", "58A2"))),
                     ("tag_52", "bad_format"), id="mcc-letters"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("52", "5812"), tlv("52", "581"))), ("tag_52", "bad_format"),
                     id="mcc-3-digits"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("53", "608"), tlv("53", "60"))), ("tag_53", "bad_length"),
                     id="currency-2-digits"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("53", "608"), tlv("53", "999"))), ("tag_53", "bad_value"),
                     id="currency-unknown"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "12345678901.00")), ("tag_54", "bad_length"), id="amount-14"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "1,000.00")), ("tag_54", "bad_format"), id="amount-comma"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "-5.00")), ("tag_54", "bad_format"), id="amount-negative"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "1.005")), ("tag_54", "bad_format"), id="amount-3-decimals"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "0.00")), ("tag_54", "bad_value"), id="amount-zero"),
        pytest.param(signed(HEAD + TAIL + tlv("54", "12\n")), ("tag_54", "bad_format"), id="amount-newline"),
        pytest.param(signed(HEAD + TAIL + tlv("55", "04")), ("tag_55", "bad_value"), id="tip-indicator"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("58", "PH"), tlv("58", "ph"))), ("tag_58", "bad_format"),
                     id="country-lower-case"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("58", "PH"), tlv("58", "SG"))), ("tag_58", "bad_value"),
                     id="qrph-not-ph"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("53", "608"), tlv("53", "702"))), ("tag_53", "bad_value"),
                     id="qrph-not-608"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("59", "Kape Tayo"), tlv("59", "K" * 26))),
                     ("tag_59", "bad_length"), id="name-26"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("59", "Kape Tayo"), tlv("59", "Kapé"))),
                     ("tag_59", "bad_format"), id="name-not-ascii"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("60", "Makati"), tlv("60", "M" * 16))), ("tag_60", "bad_length"),
                     id="city-16"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("60", "Makati"), tlv("60", "Ma\tkati"))),
                     ("tag_60", "bad_format"), id="city-control-char"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("59", "Kape Tayo"), "")), ("tag_59", "missing_tag"),
                     id="qrph-no-name"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("52", "5812"), "")), ("tag_52", "missing_tag"), id="qrph-no-mcc"),
        pytest.param(signed(HEAD + TAIL.replace(tlv("53", "608"), "")), ("tag_53", "missing_tag"), id="no-currency"),
        pytest.param(signed("000201010211" + TAIL), ("tag_02-51", "missing_tag"), id="no-merchant-account"),
        pytest.param(signed("000201010212" + P2M + TAIL), ("tag_54", "missing_tag"), id="qrph-dynamic-no-amount"),
        pytest.param(signed(HEAD.replace(tlv("01", BIC), "").replace("28", "28", 1).replace(
            P2M, tlv("28", tlv("00", "ph.ppmi.p2m") + tlv("03", "1234")))  + TAIL), ("tag_28.01", "missing_tag"),
            id="qrph-no-bic"),
        pytest.param(signed(HEAD.replace(BIC, "FNFYSGM2XXX") + TAIL), ("tag_28.01", "bad_format"), id="bic-not-ph"),
        pytest.param(signed("000201010211" + tlv("28", tlv("00", "ph.ppmi.p2m") + tlv("01", BIC)) + TAIL),
                     ("tag_28.03", "missing_tag"), id="p2m-no-merchant-id"),
        pytest.param(signed("000201010211" + tlv("27", tlv("00", "com.p2pqrpay") + tlv("01", BIC)) + TAIL),
                     ("tag_27.04", "missing_tag"), id="p2p-no-account"),
        pytest.param(signed("000201010211" + tlv("28", tlv("01", BIC)) + TAIL), ("tag_28.00", "missing_tag"),
                     id="template-no-guid"),
        pytest.param(signed("000201010211" + tlv("28", "0011ph.ppmi.p2m01") + TAIL), ("tag_28.01", "bad_length"),
                     id="template-truncated"),
        pytest.param(signed("000201010211" + tlv("28", "xx") + TAIL), ("tag_28", "bad_format"),
                     id="template-not-tlv"),
        pytest.param(signed(HEAD + TAIL + tlv("62", tlv("05", "R" * 26))), ("tag_62.05", "bad_length"),
                     id="reference-26"),
        pytest.param(signed(HEAD + TAIL + tlv("62", tlv("05", "a") + tlv("05", "b"))),
                     ("tag_62.05", "duplicate_tag"), id="sub-tag-twice"),
        pytest.param(signed(HEAD + TAIL + tlv("62", tlv("09", "AMX"))), ("tag_62.09", "bad_format"),
                     id="consumer-data-request"),
        pytest.param(signed(HEAD + TAIL + tlv("64", tlv("01", "咖啡"))), ("tag_64.00", "missing_tag"),
                     id="language-no-preference"),
        pytest.param(signed(HEAD + TAIL + tlv("64", tlv("00", "Z1") + tlv("01", "咖啡"))), ("tag_64.00", "bad_format"),
                     id="language-preference"),
        pytest.param(signed(HEAD + TAIL + tlv("64", tlv("00", "ZH") + tlv("01", "咖" * 26))),
                     ("tag_64.01", "bad_length"), id="language-name-26"),
        pytest.param(signed(HEAD + TAIL + tlv("80", tlv("01", "x"))), ("tag_80.00", "missing_tag"),
                     id="unreserved-no-guid"),
    ],
)  # fmt: skip
def test_every_malformed_code_is_refused_naming_the_tag(payload, expected):
    assert refusal(payload) == expected


def test_a_static_p2m_code_is_built_decoded_and_re_encoded():
    payload = qrph_payload_build(
        scheme="p2m", bic=BIC, merchant_id="123456789012345", mcc="5812", merchant_name="Kape Tayo",
        merchant_city="Makati", postal_code="1226",
    )  # fmt: skip

    decoded = qr_payload_decode(payload)

    assert payload == signed(HEAD + TAIL + tlv("61", "1226"))
    assert (decoded.point_of_initiation, decoded.amount, decoded.qrph.scheme, decoded.qrph.tag) == (
        "static", None, "p2m", "28"
    )  # fmt: skip
    assert qr_payload_encode(decoded.objects) == payload


def test_a_dynamic_p2p_code_carries_its_amount_reference_and_alternate_language():
    payload = qrph_payload_build(
        scheme="p2p", bic=BIC, merchant_id="09171234567", mcc="6016", merchant_name="Juan Dela Cruz",
        merchant_city="Quezon City", amount=123_45, reference_label="REF123",
        language=LanguageTemplate("TL", "Ñiño Dela Cruz", "Lungsod Quezon"),
    )  # fmt: skip

    decoded = qr_payload_decode(payload)

    assert "010212" in payload and tlv("54", "123.45") in payload
    assert (decoded.point_of_initiation, decoded.amount, decoded.amount_text, decoded.reference_label) == (
        "dynamic", 12345, "123.45", "REF123"
    )  # fmt: skip
    assert (decoded.qrph.tag, decoded.qrph.guid, decoded.qrph.bic, decoded.qrph.merchant_id) == (
        "27", "com.p2pqrpay", BIC, "09171234567"
    )  # fmt: skip
    assert decoded.language == LanguageTemplate("TL", "Ñiño Dela Cruz", "Lungsod Quezon")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"merchant_name": "N" * 26}, ("tag_59", "bad_length")),
        ({"merchant_name": ""}, ("tag_59", "bad_length")),
        ({"merchant_city": "Ma\nkati"}, ("tag_60", "bad_format")),
        ({"mcc": "58"}, ("tag_52", "bad_format")),
        ({"bic": "NOTABIC"}, ("tag_28.01", "bad_format")),
        ({"amount": 0}, ("tag_54", "bad_value")),
        ({"amount": 10**13}, ("tag_54", "bad_length")),
        ({"scheme": "p2b"}, ("tag_28", "bad_value")),
    ],
)
def test_building_with_a_field_out_of_format_is_refused_naming_its_tag(fields, expected):
    arguments = {"scheme": "p2m", "bic": BIC, "merchant_id": "1234", "mcc": "5812", "merchant_name": "Kape",
                 "merchant_city": "Makati", **fields}  # fmt: skip
    with pytest.raises(InvalidQr) as refused:
        qrph_payload_build(**arguments)
    assert [(e.field, e.code) for e in refused.value.errors] == [expected]
