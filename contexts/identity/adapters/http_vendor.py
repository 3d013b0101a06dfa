"""Adapter of an HTTP KYC vendor (JSON over HTTPS; standard library client, no redirects).

The vendor's API, as this adapter speaks it:

- `POST {base}/v1/checks` with `Authorization: Bearer <key>` and `Idempotency-Key: <reference>`,
  body `{reference, level, document: {type, number}, person: {first_name, last_name,
  birth_date}, callback_url}` → 200/201 a check `{id, reference, status, level?, reason?,
  document_expires_on?}`; `status` is `pending`, `approved` or `declined`.
- `GET {base}/v1/checks/{id}` → the check.
- Callbacks: `POST <callback_url>` with the check as body and
  `Vendor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under the
  webhook secret. A callback older or newer than IDENTITY_VENDOR_CALLBACK_TOLERANCE_SECONDS is
  refused (a captured one cannot be replayed later); within the window a replay is harmless,
  since applying a decision twice changes nothing. Several secrets may be configured (newest
  first) so that the vendor's secret can be rotated without losing callbacks.

Errors never carry the request or response bodies: they hold personal data.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import date
from urllib.parse import quote, urlsplit

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from .base import (
    REJECTED,
    VERIFIED,
    CallbackRejected,
    Decision,
    KycProvider,
    MalformedCallback,
    ProviderRefused,
    ProviderUnavailable,
    SubmissionRequest,
    SubmitResult,
)

logger = structlog.get_logger(__name__)

SIGNATURE_HEADER = "Vendor-Signature"
CALLBACK_PATH = "/callbacks/identity/vendor"
MAX_CALLBACK_BYTES = 64 * 1024
_REASON = re.compile(r"^[a-z0-9_]{1,64}$")
_OUTCOMES = {"approved": VERIFIED, "declined": REJECTED}
_UNDECIDED = {"pending", "processing", "review"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # personal data is never re-sent to wherever a redirect points


_opener = urllib.request.build_opener(_NoRedirects)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class HttpVendorProvider(KycProvider):
    name = "vendor"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        webhook_secrets: list[str] | None = None,
        timeout: float | None = None,
        tolerance: int | None = None,
    ):
        self.base_url = (base_url if base_url is not None else settings.IDENTITY_VENDOR_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else settings.IDENTITY_VENDOR_API_KEY
        self.webhook_secrets = list(
            webhook_secrets if webhook_secrets is not None else settings.IDENTITY_VENDOR_WEBHOOK_SECRETS
        )
        self.timeout = timeout if timeout is not None else settings.IDENTITY_VENDOR_TIMEOUT_SECONDS
        self.tolerance = tolerance if tolerance is not None else settings.IDENTITY_VENDOR_CALLBACK_TOLERANCE_SECONDS

    # --- outbound ---------------------------------------------------------------------------

    def submit(self, request: SubmissionRequest) -> SubmitResult:
        body = {
            "reference": request.reference,
            "level": request.level,
            "document": {"type": request.id_type, "number": request.id_number},
            "person": {
                "first_name": request.first_name,
                "last_name": request.last_name,
                "birth_date": request.birth_date.isoformat() if request.birth_date else None,
            },
            "callback_url": callback_url(),
        }
        check = self._call("POST", "/v1/checks", body=body, idempotency_key=request.reference)
        reference = check.get("id")
        if not isinstance(reference, str) or not reference or len(reference) > 100:
            raise ProviderUnavailable("The KYC vendor answered without a check id.")
        return SubmitResult(
            provider_reference=reference, decision=_decision(check, expected_reference=request.reference)
        )

    def fetch_status(self, provider_reference: str) -> Decision | None:
        check = self._call("GET", f"/v1/checks/{quote(provider_reference, safe='')}")
        return _decision(check)

    def _call(self, method: str, path: str, *, body: dict | None = None, idempotency_key: str | None = None) -> dict:
        if urlsplit(self.base_url).scheme not in ("http", "https") or not self.api_key:
            raise ImproperlyConfigured(
                "IDENTITY_VENDOR_BASE_URL (http or https) and IDENTITY_VENDOR_API_KEY are needed"
            )
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, headers=headers, method=method)  # noqa: S310 - scheme checked above
        started = time.monotonic()
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(MAX_CALLBACK_BYTES + 1)
        except urllib.error.HTTPError as error:
            status, raw = error.code, b""
            error.close()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            logger.warning("identity.vendor_unreachable", method=method, error=type(error).__name__)
            raise ProviderUnavailable("The KYC vendor could not be reached.") from None
        logger.info("identity.vendor_call", method=method, status=status, ms=round((time.monotonic() - started) * 1000))
        if status in (400, 404, 409, 422):
            raise ProviderRefused(f"The KYC vendor refused the request (HTTP {status}).")
        if not 200 <= status < 300:
            raise ProviderUnavailable(f"The KYC vendor answered HTTP {status}.")
        try:
            check = json.loads(raw)
        except ValueError:
            raise ProviderUnavailable("The KYC vendor answered with something other than JSON.") from None
        if not isinstance(check, dict):
            raise ProviderUnavailable("The KYC vendor answered with something other than a check.")
        return check

    # --- inbound ----------------------------------------------------------------------------

    def handle_callback(self, *, headers: Mapping[str, str], body: bytes, now: float | None = None) -> Decision:
        if not self.webhook_secrets:
            raise ImproperlyConfigured("IDENTITY_VENDOR_WEBHOOK_SECRETS is needed to accept vendor callbacks")
        if len(body) > MAX_CALLBACK_BYTES:
            raise MalformedCallback("The callback body is too large.")
        timestamp, signatures = _parse_signature(_header(headers, SIGNATURE_HEADER))
        now = time.time() if now is None else now
        if abs(now - timestamp) > self.tolerance:
            raise CallbackRejected("The callback's timestamp is outside the accepted window.", code="stale_callback")
        expected = [sign(secret, timestamp, body) for secret in self.webhook_secrets]
        if not any(hmac.compare_digest(mine, theirs) for mine in expected for theirs in signatures):
            raise CallbackRejected("The callback's signature does not match.")
        try:
            check = json.loads(body)
        except ValueError:
            raise MalformedCallback("The callback body is not JSON.") from None
        if not isinstance(check, dict):
            raise MalformedCallback("The callback body is not a check.")
        decision = _decision(check)
        if decision is None:
            raise MalformedCallback("The callback carries no decision.", code="callback_undecided")
        return decision


def callback_url() -> str | None:
    """Where the vendor should call back: the current tenant's primary domain (its host routes the
    request to the tenant). None for a tenant without a domain: the reconcile beat polls."""
    tenant = getattr(connection, "tenant", None)
    domain = tenant.get_primary_domain() if tenant is not None and hasattr(tenant, "get_primary_domain") else None
    if domain is None:
        return None
    return f"{settings.IDENTITY_CALLBACK_SCHEME}://{domain.domain}{CALLBACK_PATH}"


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise CallbackRejected("The callback is not signed.", code="missing_callback_signature")


def _parse_signature(value: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit():
            timestamp = int(item)
        elif key == "v1" and item:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise CallbackRejected("The callback signature header is malformed.")
    return timestamp, signatures


def _decision(check: dict, *, expected_reference: str | None = None) -> Decision | None:
    """The decision in a vendor check, None while it is undecided."""
    status = check.get("status")
    reference = check.get("reference")
    if not isinstance(reference, str) or not reference or (expected_reference and reference != expected_reference):
        raise MalformedCallback("The check does not name the submission it answers.", code="invalid_check")
    if status in _UNDECIDED:
        return None
    if status not in _OUTCOMES:
        raise MalformedCallback("The check has an unknown status.", code="invalid_check")
    outcome = _OUTCOMES[status]
    level = check.get("level")
    if outcome == VERIFIED and level not in (None, "basic", "full"):
        raise MalformedCallback("The check has an unknown level.", code="invalid_check")
    reason = check.get("reason") or ""
    if outcome == REJECTED and not (isinstance(reason, str) and _REASON.match(reason)):
        reason = "provider_declined"
    expires_on = None
    if check.get("document_expires_on"):
        try:
            expires_on = date.fromisoformat(check["document_expires_on"])
        except (TypeError, ValueError):
            raise MalformedCallback("The check has an invalid document expiry.", code="invalid_check") from None
    provider_reference = check.get("id") if isinstance(check.get("id"), str) else ""
    return Decision(
        submission_id=reference,
        outcome=outcome,
        provider_reference=provider_reference,
        level=level if outcome == VERIFIED else None,
        reason=reason if outcome == REJECTED else "",
        expires_on=expires_on,
    )
