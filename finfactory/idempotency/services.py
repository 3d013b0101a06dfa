"""Idempotency-Key semantics (docs/api.md):

- scoped per API key; the fingerprint covers method, path and canonical JSON body;
- a replay returns the stored status and body with `Idempotent-Replayed: true`;
- the same key with a different request → 422 `idempotency_key_reused`, naming the fields;
- the same key while the first request runs → 409 `idempotency_key_in_use` at once: a
  transaction-scoped advisory lock is *tried*, never waited for;
- 2xx and 4xx responses are stored, 5xx are not (a retry runs again);
- the record commits in the transaction of the effect, so neither can exist without the other.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.response import Response

from finfactory import crypto
from finfactory.errors import BusinessRuleViolation, Conflict, FieldError, InvalidInput
from finfactory.idempotency.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _lock_id(owner: str, key: str) -> int:
    # Advisory locks are database-wide: the schema keeps two tenants' keys apart.
    raw = hashlib.sha256(f"idem:{connection.schema_name}:{owner}:{key}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


def validate_key(raw: str) -> str:
    if not 1 <= len(raw) <= 255 or not raw.isprintable() or not raw.isascii():
        raise InvalidInput(
            "Idempotency-Key must be 1-255 printable ASCII characters.",
            code="invalid_idempotency_key",
            errors=[FieldError(HEADER, "1-255 printable ASCII characters.", "invalid_idempotency_key")],
        )
    return raw


def _field_digests(body) -> dict[str, str]:
    if isinstance(body, dict):
        return {str(k): _digest(canonical_json(v)) for k, v in body.items()}
    return {"(body)": _digest(canonical_json(body))}


def _differing_fields(record: IdempotencyRecord, method: str, path: str, digests: dict) -> list[str]:
    fields = sorted(
        k for k in set(record.field_digests) | set(digests) if record.field_digests.get(k) != digests.get(k)
    )
    if (record.method, record.path) != (method, path):
        fields.insert(0, "(endpoint)")
    return fields


def _replay(record: IdempotencyRecord) -> Response:
    body = json.loads(crypto.decrypt(bytes(record.response_body)))
    response = Response(body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    if record.response_status >= 400:
        response.content_type = "application/problem+json"
    return response


class _DiscardEffects(Exception):
    """Raised inside the savepoint to roll back a handler's writes on an error response."""

    def __init__(self, response):
        self.response = response


def idempotent(*, required: bool):
    """Decorate a DRF view method (post). `required=True` for money-moving operations."""

    def decorator(handler):
        @wraps(handler)
        def wrapped(view, request, *args, **kwargs):
            raw = request.headers.get(HEADER)
            if raw is None:
                if required:
                    raise InvalidInput(
                        f"This operation moves money: send an {HEADER} header.",
                        code="idempotency_key_required",
                        errors=[FieldError(HEADER, "Required on this operation.", "idempotency_key_required")],
                    )
                return handler(view, request, *args, **kwargs)
            key = validate_key(raw)
            owner = request.auth.public_id
            body = request.data  # parse now: a malformed body is a 400 that is not recorded
            method, path = request.method, request.path
            digests = _field_digests(body)
            fingerprint = _digest(f"{method} {path} {canonical_json(body)}")
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(owner, key)])
                    (locked,) = cursor.fetchone()
                if not locked:
                    raise Conflict(
                        "A request with this Idempotency-Key is still being processed; retry shortly.",
                        code="idempotency_key_in_use",
                    )
                record = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
                if record is not None:
                    if record.fingerprint != fingerprint:
                        differing = _differing_fields(record, method, path, digests)
                        raise BusinessRuleViolation(
                            "This Idempotency-Key was used with a different request.",
                            code="idempotency_key_reused",
                            errors=[FieldError(f, "Differs from the first request.", "differs") for f in differing],
                        )
                    return _replay(record)
                try:
                    with transaction.atomic():
                        response = handler(view, request, *args, **kwargs)
                        if response.status_code >= 400:
                            raise _DiscardEffects(response)
                except _DiscardEffects as discarded:
                    response = discarded.response
                except Exception as exc:
                    response = view.handle_exception(exc)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                    return response
                if not _recorded(response.status_code):
                    return response  # refused before it ran: the corrected request may use the key
                IdempotencyRecord.objects.create(
                    owner=owner,
                    key=key,
                    method=method,
                    path=path[:300],
                    fingerprint=fingerprint,
                    field_digests=digests,
                    response_status=response.status_code,
                    response_body=crypto.encrypt(canonical_json(response.data).encode()),
                    created_at=(now := timezone.now()),
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
                )
            return response

        wrapped.idempotency = {"required": required}
        return wrapped

    return decorator


def _recorded(status: int) -> bool:
    """What a key remembers: an outcome, that is, a success or a 422 refusal on the merits
    (insufficient funds, a risk decline…). A request refused before it ran — invalid input (400),
    an unknown id (404), a conflict (409) — is not remembered, so that the corrected request with
    the same key runs (nothing was written either way)."""
    return status < 400 or status == 422


def idempotency_records_purge(*, now=None) -> int:
    """Delete expired records of the current schema; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
