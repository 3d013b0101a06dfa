"""The QR error every malformed code raises, and the small set of sub-codes it carries.

`InvalidQr` is an InvalidInput (the request is wrong, not the system) rendered as 422 with the
stable code `invalid_qr`, as docs/API.md lists it. Its one FieldError names where the problem is
— `tag_54`, `tag_62.05` (sub-tag 05 of template 62), `tag_02-51` (no merchant account at all) or
`payload` (the text itself: not text, too long, no tag where one must start) — and carries one
of the sub-codes below as its `code`. Pure Python: importable without Django.
"""

from __future__ import annotations

from finfactory.errors import FieldError, InvalidInput

BAD_FORMAT = "bad_format"  # characters the tag's format does not allow (digits, decimal, hex, charset)
BAD_LENGTH = "bad_length"  # a length that is not two digits, runs past the data, or exceeds the tag's maximum
BAD_VALUE = "bad_value"  # well-formed but not an allowed value (00 ≠ 01, unknown currency, QR Ph not 608/PH)
MISSING_TAG = "missing_tag"  # a mandatory tag or sub-tag is absent
DUPLICATE_TAG = "duplicate_tag"  # a tag appears twice at the same level
BAD_CRC = "bad_crc"  # the CRC-16/CCITT-FALSE in tag 63 does not match the payload

SUB_CODES = (BAD_FORMAT, BAD_LENGTH, BAD_VALUE, MISSING_TAG, DUPLICATE_TAG, BAD_CRC)


class InvalidQr(InvalidInput):
    status, code, title = 422, "invalid_qr", "Invalid QR code"


def invalid_qr(field: str, sub_code: str, message: str) -> InvalidQr:
    return InvalidQr(f"{field}: {message}", errors=[FieldError(field, message, sub_code)])
