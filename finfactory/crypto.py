"""Encryption at rest with rotatable keys (Fernet: AES-128-CBC + HMAC-SHA256).

`ENCRYPTION_KEYS` lists keys newest first: new data is encrypted with the first, every listed key
still decrypts, so a key is rotated by prepending a new one and re-encrypting at leisure.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: bytes) -> bytes:
    return _current().encrypt(plaintext)


def decrypt(token: bytes) -> bytes:
    return _current().decrypt(token)


def rotate(token: bytes) -> bytes:
    """Re-encrypt under the newest key (no-op in meaning, new ciphertext)."""
    return _current().rotate(token)
