"""Provider callbacks: authenticate the notification, then apply the decision it carries.

`kyc_callback_handle` is what the HTTP endpoint (rest/views.py, `POST /callbacks/identity/<provider>`
on the tenant's host) calls; it is also exposed through api.py for any other transport.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from django.core.exceptions import ImproperlyConfigured

from finfactory.errors import Conflict, NotFound

from .adapters import PROVIDERS, provider_get
from .dtos import KycStatusDTO
from .kyc import kyc_decision_apply

logger = structlog.get_logger(__name__)

# Decisions we deliberately do not apply: answered 200 so the provider stops retrying them.
IGNORED = {"decision_conflict", "submission_superseded"}


def kyc_callback_handle(*, provider: str, headers: Mapping[str, str], body: bytes) -> KycStatusDTO | None:
    """Returns the customer's KYC status after the decision, or None for a decision ignored
    (logged with its code). Raises NotFound (unknown provider or submission), CallbackRejected
    (403: unsigned, bad signature, stale), MalformedCallback (400); nothing is written then."""
    if provider not in PROVIDERS:
        raise NotFound("No such KYC provider.", code="kyc_provider_not_found")
    try:
        decision = provider_get(provider).handle_callback(headers=headers, body=body)
    except ImproperlyConfigured:
        # A provider this deployment does not use: to the caller, as if it did not exist.
        logger.warning("identity.callback_for_unconfigured_provider", provider=provider)
        raise NotFound("No such KYC provider.", code="kyc_provider_not_found") from None
    try:
        return kyc_decision_apply(provider=provider, decision=decision)
    except Conflict as conflict:
        if conflict.code not in IGNORED:
            raise
        logger.warning("identity.callback_ignored", provider=provider, submission=decision.submission_id,
                       code=conflict.code)  # fmt: skip
        return None
