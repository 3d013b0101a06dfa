"""JSON parsing that refuses what JSON does not define (NaN, Infinity), text no database column
can hold (NUL characters, unpaired surrogates — in keys as in values), a name given twice in one
object (which of the two would count is up to each parser on the way), and bounds nesting.

Every request body of the API is a JSON object: any other JSON value (an array, a string, a
number, `true`, `null`) is a 400 `validation_error` naming `body`, whichever view reads it — a
view reading "no fields" from a falsy body cannot mistake `null` or `[]` for `{}`.
"""

import json

from django.conf import settings
from rest_framework.exceptions import ErrorDetail, ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _unique_names(pairs: list[tuple[str, object]]) -> dict:
    names = {}
    for name, value in pairs:
        if name in names:
            raise ValueError(f"the name {name!r} appears twice in one object")
        names[name] = value
    return names


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate (\ud800) that JSON allows and UTF-8 does not
        return False
    return True


def _depth(value, limit: int) -> int:
    """The nesting depth (stopping past `limit`); raises ValueError on text that cannot be stored."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            if not all(_storable(key) for key in item):
                raise ValueError("a key contains a NUL character or an unpaired surrogate")
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and not _storable(item):
            raise ValueError("a string contains a NUL character or an unpaired surrogate")
    return deepest


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(settings.API_MAX_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > settings.API_MAX_BODY_BYTES:
            from django.core.exceptions import RequestDataTooBig

            raise RequestDataTooBig("body too large")
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_names)
        except RecursionError as exc:
            raise ParseError("JSON nested too deeply.") from exc
        except (UnicodeDecodeError, ValueError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        try:
            too_deep = _depth(data, MAX_DEPTH) > MAX_DEPTH
        except ValueError as exc:
            raise ParseError(f"Malformed JSON: {exc}.") from exc
        if too_deep:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if not isinstance(data, dict):
            raise ValidationError([ErrorDetail(f"A JSON object is required, not {_kind(data)}.", code="invalid")])
        return data


def _kind(value) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
