"""Properties of the codec over generated codes and generated garbage (hypothesis)."""

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexts.qrph.codec import LanguageTemplate, qr_payload_decode, qr_payload_encode, qrph_payload_build
from contexts.qrph.emv import crc_of
from contexts.qrph.errors import SUB_CODES, InvalidQr

from .test_vectors import VALID

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELD = re.compile(r"^(payload|tag_\d\d(\.\d\d)?|tag_02-51)$")
ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
# Printable text in any script, multibyte included: what the language template (64) may carry.
UNICODE = st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S"]).filter(str.isprintable)
SAMPLES = [row.values[1] for row in VALID]


def ascii_text(low: int, high: int):
    return st.text(ASCII, min_size=low, max_size=high)


codes = st.fixed_dictionaries(
    {
        "scheme": st.sampled_from(["p2p", "p2m"]),
        "bic": st.from_regex(r"\A[A-Z]{4}PH[A-Z0-9]{2}([A-Z0-9]{3})?\Z"),
        "merchant_id": st.text(string.ascii_uppercase + string.digits + "+-", min_size=1, max_size=40),
        "mcc": st.from_regex(r"\A[0-9]{4}\Z"),
        "merchant_name": ascii_text(1, 25),
        "merchant_city": ascii_text(1, 15),
    },
    optional={
        "amount": st.integers(min_value=1, max_value=999_999_999_999),
        "postal_code": ascii_text(1, 10),
        "reference_label": ascii_text(1, 25),
        "language": st.builds(
            LanguageTemplate,
            preference=st.from_regex(r"\A[A-Za-z]{2}\Z"),
            merchant_name=st.text(UNICODE, min_size=1, max_size=25),
            merchant_city=st.none() | st.text(UNICODE, min_size=1, max_size=15),
        ),
    },
)


def only_the_documented_error(payload) -> None:
    """Garbage is refused with InvalidQr naming a tag and a documented sub-code — or, by chance,
    is a code, which then re-encodes to itself. Any other exception fails the test."""
    try:
        decoded = qr_payload_decode(payload)
    except InvalidQr as refused:
        assert (refused.code, refused.status, len(refused.errors)) == ("invalid_qr", 422, 1)
        assert refused.errors[0].code in SUB_CODES
        assert FIELD.match(refused.errors[0].field), refused.errors[0].field
    else:
        assert qr_payload_encode(decoded.objects) == payload


@FAST
@given(codes)
def test_a_generated_code_round_trips_and_decodes_to_its_inputs(fields):
    payload = qrph_payload_build(**fields)

    decoded = qr_payload_decode(payload)

    assert qr_payload_encode(decoded.objects) == payload
    assert qrph_payload_build(**fields) == payload
    assert (decoded.qrph.scheme, decoded.qrph.bic, decoded.qrph.merchant_id) == (
        fields["scheme"], fields["bic"], fields["merchant_id"]
    )  # fmt: skip
    assert (decoded.mcc, decoded.merchant_name, decoded.merchant_city, decoded.postal_code) == (
        fields["mcc"], fields["merchant_name"], fields["merchant_city"], fields.get("postal_code")
    )  # fmt: skip
    assert (decoded.amount, decoded.currency, decoded.country) == (fields.get("amount"), "PHP", "PH")
    assert decoded.point_of_initiation == ("dynamic" if "amount" in fields else "static")
    assert decoded.reference_label == fields.get("reference_label")
    assert decoded.language == fields.get("language")


@FAST
@given(st.binary(max_size=600), st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_random_bytes_decoded_as_text_only_ever_raise_the_documented_error(data, encoding):
    only_the_documented_error(data.decode(encoding, errors="replace"))
    only_the_documented_error(data.decode("utf-8", errors="surrogateescape"))


@FAST
@given(st.sampled_from(SAMPLES), st.data())
def test_every_truncation_of_a_real_code_is_refused(payload, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))

    try:
        qr_payload_decode(payload[:cut])
    except InvalidQr as refused:
        assert refused.errors[0].code in SUB_CODES
    else:
        raise AssertionError(f"a truncated code decoded: {payload[:cut]!r}")


@FAST
@given(st.sampled_from(SAMPLES), st.data())
def test_a_wrong_length_or_character_in_a_real_code_only_raises_the_documented_error(payload, data):
    position = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    replacement = data.draw(st.text(st.characters(codec="utf-8"), min_size=0, max_size=3))
    mutated = payload[:position] + replacement + payload[position + 1 :]
    resigned = data.draw(st.booleans())
    if resigned and len(mutated) > 8:  # keep the CRC right, so the damage itself must be caught
        mutated = mutated[:-8] + "6304" + crc_of(mutated[:-8] + "6304")

    only_the_documented_error(mutated)


tags = st.from_regex(r"\A[0-9]{2}\Z")
values = st.text(st.characters(codec="utf-8"), min_size=0, max_size=30)


@FAST
@given(
    st.lists(st.tuples(tags, values, st.integers(min_value=-2, max_value=2)), max_size=20),
    st.booleans(),
)
def test_random_tag_soup_only_raises_the_documented_error(objects, sign):
    body = "".join(f"{tag}{max(0, len(value) + skew):02d}{value}" for tag, value, skew in objects)
    if sign:
        body = "000201" + body + "6304"
        body += crc_of(body)

    only_the_documented_error(body)
