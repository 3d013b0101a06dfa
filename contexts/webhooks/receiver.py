"""Verifying a FinFactory webhook on the receiving side: the snippet docs/webhooks-receiver.md
shows verbatim (standard library only), shipped here so the tests exercise the documented code.

`FinFactory-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` — during a
secret rotation the header carries one `v1=` per valid secret; any one that matches is enough.
"""

import hashlib
import hmac
import time


def signature_verify(
    *, payload: bytes, header: str, secret: str, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when `header` signs the raw request body `payload` with `secret` and its timestamp is
    within `tolerance` seconds of `now` (default: the clock). Never raises: False on anything else."""
    try:
        timestamp = None
        signatures = []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t":
                if not (value.isascii() and value.isdigit()):
                    return False
                timestamp = int(value)
            elif key == "v1":
                signatures.append(value)
        if timestamp is None or not signatures:
            return False
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            return False  # too old (a replay) or from the future
        signed = str(timestamp).encode() + b"." + payload
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures)
    except (AttributeError, TypeError, ValueError, UnicodeError):
        return False
