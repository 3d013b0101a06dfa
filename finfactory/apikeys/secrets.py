"""Key material: `ff_test_` / `ff_live_` / `ff_platform_` + 40 base62 characters (238 bits)."""

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
KEY_RANDOM_CHARS = 40
PREFIX_VISIBLE_CHARS = 6
KEY_PREFIXES = ("ff_test_", "ff_live_", "ff_platform_")


def generate(kind_prefix: str) -> str:
    if kind_prefix not in KEY_PREFIXES:
        raise ValueError(kind_prefix)
    return kind_prefix + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_CHARS))


def digest(key: str) -> str:
    """Keys carry 238 random bits, so a plain SHA-256 cannot be reversed or brute-forced."""
    return hashlib.sha256(key.encode()).hexdigest()


def visible_prefix(key: str) -> str:
    for prefix in KEY_PREFIXES:
        if key.startswith(prefix):
            return key[: len(prefix) + PREFIX_VISIBLE_CHARS]
    return key[:PREFIX_VISIBLE_CHARS]


def well_formed(key: str) -> bool:
    return (
        any(key.startswith(prefix) for prefix in KEY_PREFIXES)
        and len(key) <= 64
        and all(c in _ALPHABET or c == "_" for c in key)
    )
