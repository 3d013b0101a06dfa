"""EMV data objects (tag, length, value) and the CRC of EMVCo merchant-presented QR codes.

Pure Python. A data object is a two-digit tag, a two-digit length and that many characters of
value; lengths count characters (code points), not bytes, so "最佳运输" is length 04. The CRC is
CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR) over
the UTF-8 bytes of the payload up to and including `6304`, written as four upper-case hex digits.

Parsing keeps every object in its order with its raw value, so `objects_encode(parse(text))`
is `text` again, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import BAD_FORMAT, BAD_LENGTH, invalid_qr

CRC_TAG = "63"
CRC_PREFIX = "6304"


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _table()


def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def crc_of(text_up_to_6304: str) -> str:
    """The four upper-case hex digits tag 63 must carry after `text_up_to_6304`."""
    return f"{crc16_ccitt_false(text_up_to_6304.encode('utf-8')):04X}"


def is_digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


@dataclass(frozen=True)
class DataObject:
    """One data object. `children` is the parsed content of a template (None for a primitive);
    `value` is always the raw text, identical to the encoded children for a parsed template."""

    tag: str
    value: str
    children: tuple[DataObject, ...] | None = None

    def child(self, tag: str) -> DataObject | None:
        return next((c for c in self.children or () if c.tag == tag), None)

    def encoded(self) -> str:
        value = self.value if self.children is None else objects_encode(self.children)
        return f"{self.tag}{len(value):02d}{value}"


def primitive(tag: str, value: str) -> DataObject:
    return DataObject(tag, value)


def template(tag: str, children: Iterable[DataObject]) -> DataObject:
    children = tuple(children)
    return DataObject(tag, objects_encode(children), children)


def objects_encode(objects: Iterable[DataObject]) -> str:
    return "".join(obj.encoded() for obj in objects)


def field_name(tag: str, parent: str | None = None) -> str:
    """`tag_54` at the top level, `tag_62.05` inside template 62."""
    return f"tag_{parent}.{tag}" if parent else f"tag_{tag}"


def parse(text: str, *, parent: str | None = None) -> tuple[DataObject, ...]:
    """Split `text` into data objects (one level). Errors name the tag being read, or the
    enclosing template (`payload` at the top level) when no tag can be read at all."""
    objects: list[DataObject] = []
    position, end = 0, len(text)
    where = field_name(parent) if parent else "payload"
    while position < end:
        tag = text[position : position + 2]
        if len(tag) < 2 or not is_digits(tag):
            raise invalid_qr(where, BAD_FORMAT, f"expected a two-digit tag at character {position}")
        field = field_name(tag, parent)
        length = text[position + 2 : position + 4]
        if len(length) < 2:
            raise invalid_qr(field, BAD_LENGTH, "the data ends before the two-digit length")
        if not is_digits(length):
            raise invalid_qr(field, BAD_LENGTH, f"length {length!r} is not two digits")
        size = int(length)
        if size == 0:
            raise invalid_qr(field, BAD_LENGTH, "length 00: a present tag has a value")
        start = position + 4
        if start + size > end:
            raise invalid_qr(field, BAD_LENGTH, f"length {size} runs past the end of the data")
        objects.append(DataObject(tag, text[start : start + size]))
        position = start + size
    return tuple(objects)
