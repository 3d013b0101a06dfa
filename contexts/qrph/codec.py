"""EMVCo merchant-presented QR (MPM) codes, with the QR Ph profile: decode, validate, encode.

Pure Python (no Django). `qr_payload_decode(text)` returns a `DecodedQr` or raises `InvalidQr`
(errors.py) naming the tag; `qr_payload_encode(objects)` writes objects back with a fresh CRC;
`qrph_payload_build(...)` composes a QR Ph code from its fields.

Any EMV MPM code decodes (PromptPay, PayNow, UnionPay samples…): unknown GUIDs are kept as raw
templates. A code is **QR Ph** when one of its merchant account templates (26-51) has the GUID
`com.p2pqrpay` (person to person) or `ph.ppmi.p2m` (person to merchant); QR Ph then also requires
52, 59, 60, currency 608, country PH, the acquirer BIC in sub-tag 01, the receiving id (P2M: 03,
P2P: 04), and an amount in a dynamic code. Other schemes are held only to the EMV core (00, a
merchant account, 53, 58, 63) because real PromptPay codes omit 52, 59 and 60.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import iso4217

from .emv import CRC_PREFIX, CRC_TAG, DataObject, crc_of, field_name, is_digits, objects_encode, parse, primitive
from .emv import template as template_object
from .errors import BAD_CRC, BAD_FORMAT, BAD_LENGTH, BAD_VALUE, DUPLICATE_TAG, MISSING_TAG, invalid_qr

MAX_PAYLOAD_CHARS = 512
P2P_GUID = "com.p2pqrpay"
P2M_GUID = "ph.ppmi.p2m"
SCHEMES = {P2P_GUID: "p2p", P2M_GUID: "p2m"}
GUIDS = {scheme: guid for guid, scheme in SCHEMES.items()}
# The template each kind of QR Ph code uses when we issue one (as the Philippine issuers do).
ISSUE_TAGS = {"p2p": "27", "p2m": "28"}
RECEIVER_SUB_TAG = {"p2p": "04", "p2m": "03"}
PHP_NUMERIC, PH = "608", "PH"
STATIC, DYNAMIC = "static", "dynamic"
INITIATION = {"11": STATIC, "12": DYNAMIC}

MERCHANT_ACCOUNT_TAGS = frozenset(f"{n:02d}" for n in range(2, 52))
TEMPLATE_TAGS = frozenset(f"{n:02d}" for n in (*range(26, 52), 62, 64, *range(80, 100)))
BIC_PATTERN = re.compile(r"^[A-Z]{4}PH[A-Z0-9]{2}(?:[A-Z0-9]{3})?\Z")
_DECIMAL = re.compile(r"^([0-9]+)(?:\.([0-9]+))?\Z")
# (maximum length, format) of the top-level primitives; format: digits | decimal | alpha2 | ans
_PRIMITIVES = {
    "52": (4, "mcc"), "53": (3, "digits"), "54": (13, "decimal"), "55": (2, "digits"), "56": (13, "decimal"),
    "57": (5, "decimal"), "58": (2, "alpha2"), "59": (25, "ans"), "60": (15, "ans"), "61": (10, "ans"),
}  # fmt: skip


@dataclass(frozen=True)
class MerchantAccount:
    """A merchant account information template (26-51) or primitive (02-25)."""

    tag: str
    guid: str | None  # sub-tag 00 of a template; None for a primitive (02-25)
    scheme: str | None  # p2p | p2m for QR Ph; None for any other scheme
    bic: str | None  # QR Ph acquirer id (sub-tag 01)
    merchant_id: str | None  # QR Ph receiving id: P2M sub-tag 03, P2P sub-tag 04
    fields: tuple[tuple[str, str], ...]  # every (sub-tag, raw value) in order; ((tag, value),) for a primitive


@dataclass(frozen=True)
class LanguageTemplate:
    """Tag 64: the merchant's name and city in an alternate language (any Unicode)."""

    preference: str
    merchant_name: str
    merchant_city: str | None


@dataclass(frozen=True)
class DecodedQr:
    payload: str
    objects: tuple[DataObject, ...]  # every top-level object in order, raw (63 included)
    payload_format_indicator: str
    point_of_initiation: str | None  # static | dynamic | None (tag 01 absent)
    merchant_accounts: tuple[MerchantAccount, ...]
    qrph: MerchantAccount | None  # the first QR Ph merchant account, None for other schemes
    mcc: str | None
    currency: str  # ISO 4217 alphabetic (PHP)
    currency_numeric: str  # as in the code (608)
    amount: int | None  # minor units of `currency`
    amount_text: str | None  # as in the code ("50000.00")
    tip_indicator: str | None
    country: str
    merchant_name: str | None
    merchant_city: str | None
    postal_code: str | None
    additional_data: tuple[tuple[str, str], ...]  # tag 62 (sub-tag, raw value) in order
    language: LanguageTemplate | None
    crc: str
    crc_valid: bool = True  # a code whose CRC does not match is refused (bad_crc), never returned

    @property
    def reference_label(self) -> str | None:
        return dict(self.additional_data).get("05")


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _check_text(value: str, field: str, *, unicode: bool = False) -> None:
    ok = value.isprintable() if unicode else _printable_ascii(value)
    if not ok:
        allowed = "printable characters" if unicode else "printable ASCII characters"
        raise invalid_qr(field, BAD_FORMAT, f"only {allowed} are allowed")


def _no_duplicates(objects: Iterable[DataObject], parent: str | None) -> None:
    seen: set[str] = set()
    for obj in objects:
        if obj.tag in seen:
            raise invalid_qr(field_name(obj.tag, parent), DUPLICATE_TAG, "the tag appears more than once")
        seen.add(obj.tag)


def _decimal(value: str, field: str, max_length: int) -> None:
    if len(value) > max_length:
        raise invalid_qr(field, BAD_LENGTH, f"at most {max_length} characters")
    if not _DECIMAL.match(value):
        raise invalid_qr(field, BAD_FORMAT, "a decimal number such as 123.45 is expected")


def _check_primitive(obj: DataObject) -> None:
    field = field_name(obj.tag)
    max_length, kind = _PRIMITIVES.get(obj.tag, (99, "ans"))
    if kind == "decimal":
        return _decimal(obj.value, field, max_length)
    if len(obj.value) > max_length:
        raise invalid_qr(field, BAD_LENGTH, f"at most {max_length} characters")
    if kind in ("mcc", "digits"):
        if not is_digits(obj.value) or (kind == "mcc" and len(obj.value) != 4):
            raise invalid_qr(field, BAD_FORMAT, f"{max_length} digits are expected")
        if len(obj.value) != max_length:
            raise invalid_qr(field, BAD_LENGTH, f"exactly {max_length} digits")
    elif kind == "alpha2":
        if len(obj.value) != 2 or not (obj.value.isascii() and obj.value.isalpha() and obj.value.isupper()):
            raise invalid_qr(field, BAD_FORMAT, "a two-letter upper-case ISO 3166 country code is expected")
    else:
        # 65-79 are reserved for EMVCo's future use: kept raw, any printable text.
        _check_text(obj.value, field, unicode="65" <= obj.tag <= "79")


def _parse_template(obj: DataObject) -> DataObject:
    children = parse(obj.value, parent=obj.tag)
    _no_duplicates(children, obj.tag)
    unicode = obj.tag == "64"
    for child in children:
        _check_text(child.value, field_name(child.tag, obj.tag), unicode=unicode)
    return DataObject(obj.tag, obj.value, children)


def _require(parent: DataObject, sub_tag: str) -> DataObject:
    child = parent.child(sub_tag)
    if child is None:
        raise invalid_qr(field_name(sub_tag, parent.tag), MISSING_TAG, "this sub-tag is mandatory")
    return child


def _check_template(obj: DataObject) -> None:
    tag = obj.tag
    if tag in MERCHANT_ACCOUNT_TAGS or tag >= "80":
        guid = _require(obj, "00")
        if len(guid.value) > 32:
            raise invalid_qr(
                field_name("00", tag), BAD_LENGTH, "a globally unique identifier has at most 32 characters"
            )
    elif tag == "62":
        for child in obj.children or ():
            field = field_name(child.tag, tag)
            if "01" <= child.tag <= "08" and len(child.value) > 25:
                raise invalid_qr(field, BAD_LENGTH, "at most 25 characters")
            if child.tag == "09" and (len(child.value) > 3 or set(child.value) - set("AME")):
                raise invalid_qr(field, BAD_FORMAT, "up to three of the letters A, M, E")
    elif tag == "64":
        preference = _require(obj, "00").value
        if len(preference) != 2 or not (preference.isascii() and preference.isalpha()):
            raise invalid_qr(field_name("00", tag), BAD_FORMAT, "a two-letter ISO 639 language code is expected")
        for sub_tag, limit in (("01", 25), ("02", 15)):
            child = obj.child(sub_tag)
            if child is not None and len(child.value) > limit:
                raise invalid_qr(field_name(sub_tag, tag), BAD_LENGTH, f"at most {limit} characters")
        _require(obj, "01")


def _merchant_account(obj: DataObject) -> MerchantAccount:
    if obj.children is None:
        return MerchantAccount(obj.tag, None, None, None, None, ((obj.tag, obj.value),))
    guid = obj.child("00").value
    scheme = SCHEMES.get(guid.lower())
    fields = tuple((child.tag, child.value) for child in obj.children)
    if scheme is None:
        return MerchantAccount(obj.tag, guid, None, None, None, fields)
    bic = _require(obj, "01").value
    if not BIC_PATTERN.match(bic):
        raise invalid_qr(field_name("01", obj.tag), BAD_FORMAT, "a Philippine BIC (8 or 11 characters) is expected")
    receiver = _require(obj, RECEIVER_SUB_TAG[scheme]).value
    return MerchantAccount(obj.tag, guid, scheme, bic, receiver, fields)


def _amount_minor(text: str, exponent: int) -> int:
    whole, fraction = _DECIMAL.match(text).groups()
    fraction = fraction or ""
    if len(fraction) > exponent:
        raise invalid_qr("tag_54", BAD_FORMAT, f"at most {exponent} decimal places in this currency")
    minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor <= 0:
        raise invalid_qr("tag_54", BAD_VALUE, "the amount must be greater than zero")
    return minor


@cache
def _currency_of(numeric: str) -> tuple[str, int] | None:
    for currency in iso4217.Currency:
        if currency.number == int(numeric) and currency.exponent is not None:
            return currency.code, currency.exponent
    return None


def _currency(numeric: str) -> tuple[str, int]:
    found = _currency_of(numeric)
    if found is not None:
        return found
    raise invalid_qr("tag_53", BAD_VALUE, f"{numeric} is not an ISO 4217 currency with a minor unit")


def _tokenize(payload: object) -> tuple[DataObject, ...]:
    if not isinstance(payload, str):
        raise invalid_qr("payload", BAD_FORMAT, "the payload must be text")
    if not payload:
        raise invalid_qr("payload", BAD_LENGTH, "the payload is empty")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise invalid_qr("payload", BAD_LENGTH, f"at most {MAX_PAYLOAD_CHARS} characters")
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_qr("payload", BAD_FORMAT, "the payload is not valid Unicode text") from None
    return parse(payload)


def _check_crc(payload: str, objects: tuple[DataObject, ...]) -> str:
    crc = next((obj for obj in objects if obj.tag == CRC_TAG), None)
    if crc is None:
        raise invalid_qr("tag_63", MISSING_TAG, "the CRC (tag 63) is mandatory")
    if crc is not objects[-1]:
        raise invalid_qr("tag_63", BAD_FORMAT, "the CRC must be the last tag")
    if len(crc.value) != 4:
        raise invalid_qr("tag_63", BAD_LENGTH, "the CRC has exactly 4 characters")
    if not (crc.value.isascii() and all(c in "0123456789ABCDEF" for c in crc.value)):
        raise invalid_qr("tag_63", BAD_FORMAT, "the CRC is four upper-case hexadecimal digits")
    expected = crc_of(payload[:-4])
    if crc.value != expected:
        raise invalid_qr("tag_63", BAD_CRC, "the CRC does not match the payload")
    return crc.value


def qr_payload_decode(payload: object) -> DecodedQr:
    """Decode and validate one merchant-presented QR payload; InvalidQr names the tag otherwise."""
    objects = _tokenize(payload)
    crc = _check_crc(payload, objects)
    if objects[0].tag != "00":
        raise invalid_qr("tag_00", MISSING_TAG, "the payload format indicator (00) must come first")
    _no_duplicates(objects, None)
    objects = tuple(_parse_template(obj) if obj.tag in TEMPLATE_TAGS else obj for obj in objects)
    by_tag = {obj.tag: obj for obj in objects}
    if by_tag["00"].value != "01":
        raise invalid_qr("tag_00", BAD_VALUE, "the payload format indicator is 01")
    initiation = by_tag.get("01")
    if initiation is not None and initiation.value not in INITIATION:
        raise invalid_qr("tag_01", BAD_VALUE, "11 (static) or 12 (dynamic)")
    for obj in objects[:-1]:
        if obj.children is not None:
            _check_template(obj)
        elif obj.tag not in ("00", "01"):
            _check_primitive(obj)
    accounts = tuple(_merchant_account(obj) for obj in objects if obj.tag in MERCHANT_ACCOUNT_TAGS)
    if not accounts:
        raise invalid_qr("tag_02-51", MISSING_TAG, "at least one merchant account (tags 02-51) is mandatory")
    for tag in ("53", "58"):
        if tag not in by_tag:
            raise invalid_qr(field_name(tag), MISSING_TAG, "this tag is mandatory")
    if "55" in by_tag and by_tag["55"].value not in ("01", "02", "03"):
        raise invalid_qr("tag_55", BAD_VALUE, "01, 02 or 03")
    qrph = next((account for account in accounts if account.scheme), None)
    point_of_initiation = INITIATION[initiation.value] if initiation else None
    if qrph is not None:
        _check_qrph(by_tag, point_of_initiation)
    currency, exponent = _currency(by_tag["53"].value)
    amount_text = by_tag["54"].value if "54" in by_tag else None
    language = by_tag.get("64")
    return DecodedQr(
        payload=payload,
        objects=objects,
        payload_format_indicator="01",
        point_of_initiation=point_of_initiation,
        merchant_accounts=accounts,
        qrph=qrph,
        mcc=_value(by_tag, "52"),
        currency=currency,
        currency_numeric=by_tag["53"].value,
        amount=_amount_minor(amount_text, exponent) if amount_text is not None else None,
        amount_text=amount_text,
        tip_indicator=_value(by_tag, "55"),
        country=by_tag["58"].value,
        merchant_name=_value(by_tag, "59"),
        merchant_city=_value(by_tag, "60"),
        postal_code=_value(by_tag, "61"),
        additional_data=tuple((c.tag, c.value) for c in by_tag["62"].children) if "62" in by_tag else (),
        language=LanguageTemplate(
            preference=language.child("00").value,
            merchant_name=language.child("01").value,
            merchant_city=language.child("02").value if language.child("02") else None,
        )
        if language
        else None,
        crc=crc,
    )


def _value(by_tag: dict[str, DataObject], tag: str) -> str | None:
    obj = by_tag.get(tag)
    return obj.value if obj is not None else None


def _check_qrph(by_tag: dict[str, DataObject], point_of_initiation: str | None) -> None:
    for tag in ("52", "59", "60"):
        if tag not in by_tag:
            raise invalid_qr(field_name(tag), MISSING_TAG, "this tag is mandatory in QR Ph")
    if by_tag["53"].value != PHP_NUMERIC:
        raise invalid_qr("tag_53", BAD_VALUE, "QR Ph codes are in PHP (608)")
    if by_tag["58"].value != PH:
        raise invalid_qr("tag_58", BAD_VALUE, "QR Ph codes are from PH")
    if point_of_initiation == DYNAMIC and "54" not in by_tag:
        raise invalid_qr("tag_54", MISSING_TAG, "a dynamic QR Ph code carries its amount")


def qr_payload_encode(objects: Iterable[DataObject]) -> str:
    """The payload of `objects` (any tag 63 among them is dropped) followed by a fresh CRC."""
    body = objects_encode(obj for obj in objects if obj.tag != CRC_TAG) + CRC_PREFIX
    return body + crc_of(body)


def amount_text(amount: int, exponent: int = 2) -> str:
    """Minor units as the decimal text of tag 54: 5000000 → "50000.00"."""
    whole, fraction = divmod(amount, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)


def qrph_payload_build(
    *,
    scheme: str,
    bic: str,
    merchant_id: str,
    mcc: str,
    merchant_name: str,
    merchant_city: str,
    amount: int | None = None,
    postal_code: str | None = None,
    reference_label: str | None = None,
    language: LanguageTemplate | None = None,
) -> str:
    """A QR Ph code: static without `amount` (minor units of PHP), dynamic with it. The result
    is decoded before it is returned, so a field out of format raises InvalidQr naming its tag."""
    if scheme not in GUIDS:
        raise invalid_qr(field_name(ISSUE_TAGS["p2m"]), BAD_VALUE, "scheme is p2p or p2m")
    account = template_object(
        ISSUE_TAGS[scheme],
        [primitive("00", GUIDS[scheme]), primitive("01", bic), primitive(RECEIVER_SUB_TAG[scheme], merchant_id)],
    )
    objects = [
        primitive("00", "01"),
        primitive("01", "11" if amount is None else "12"),
        account,
        primitive("52", mcc),
        primitive("53", PHP_NUMERIC),
    ]
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise invalid_qr("tag_54", BAD_VALUE, "the amount must be a positive number of centavos")
        objects.append(primitive("54", amount_text(amount)))
    objects += [primitive("58", PH), primitive("59", merchant_name), primitive("60", merchant_city)]
    if postal_code:
        objects.append(primitive("61", postal_code))
    if reference_label:
        objects.append(template_object("62", [primitive("05", reference_label)]))
    if language is not None:
        subs = [primitive("00", language.preference), primitive("01", language.merchant_name)]
        if language.merchant_city:
            subs.append(primitive("02", language.merchant_city))
        objects.append(template_object("64", subs))
    for obj in objects:  # an empty or over-long value would shift every tag after it
        if not obj.value or len(obj.value) > 99:
            raise invalid_qr(field_name(obj.tag), BAD_LENGTH, "between 1 and 99 characters")
    payload = qr_payload_encode(objects)
    qr_payload_decode(payload)
    return payload
