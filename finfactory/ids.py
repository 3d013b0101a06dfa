"""Opaque, prefixed public ids (`cus_…`, `wal_…`): time-ordered so that new rows land at the end
of their index, random enough (80 bits per millisecond) never to collide or be guessed."""

import os
import re
import time

from django.db import models

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_PREFIX = re.compile(r"^[a-z]{2,8}$")


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, index = divmod(value, 32)
        chars.append(_ALPHABET[index])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """`<prefix>_` + 26 characters: 48-bit millisecond timestamp, 80 random bits."""
    millis = time.time_ns() // 1_000_000
    randomness = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_base32(millis, 10)}{_base32(randomness, 16)}"


def looks_like(prefix: str, value: object) -> bool:
    return isinstance(value, str) and value.startswith(f"{prefix}_") and len(value) == len(prefix) + 27


class PublicIdField(models.CharField):
    """A unique, indexed public id with the given prefix, generated on insert."""

    def __init__(self, *args, prefix: str, **kwargs):
        if not _PREFIX.match(prefix):
            raise ValueError(f"bad id prefix {prefix!r}")
        self.prefix = prefix
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if add and not value:
            value = new_id(self.prefix)
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        for key, default in (("max_length", 40), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key, None)
        # unique defaults to True here but to False on Field, which therefore leaves a False out:
        # say it, or a migration would re-create the field unique.
        if self.unique:
            kwargs.pop("unique", None)
        else:
            kwargs["unique"] = False
        return name, path, args, kwargs
