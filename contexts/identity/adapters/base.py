"""The one interface every KYC provider adapter implements, and the values it exchanges.

An adapter translates between identity and one provider; it decides nothing itself and touches
no table. identity calls it outside any database transaction (it may wait on the network):

- `submit(request)` hands a submission to the provider and returns the provider's reference
  (and a decision, if the provider answers at once). The provider must treat a repeated
  `request.reference` as the same check: identity may send a submission more than once.
- `fetch_status(provider_reference)` asks for the decision: None while undecided.
- `handle_callback(headers=, body=)` authenticates a provider's notification and reads the
  decision in it.

Errors: `ProviderUnavailable` (network, timeout, 5xx: try again later), `ProviderRefused` (the
provider will never accept this request), `CallbackRejected` (a notification that is not
authentic, is stale or is malformed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from finfactory.errors import Forbidden, InvalidInput, PlatformError, RetryableError

VERIFIED = "verified"
REJECTED = "rejected"


@dataclass(frozen=True)
class SubmissionRequest:
    """What a provider needs to check an identity. `reference` is identity's submission id."""

    reference: str
    id_type: str
    level: str
    id_number: str = field(repr=False)
    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date | None = field(repr=False)
    country: str | None = None


@dataclass(frozen=True)
class Decision:
    """A provider's answer about one submission (`submission_id`: identity's reference)."""

    submission_id: str
    outcome: str  # verified | rejected
    provider_reference: str = ""
    level: str | None = None  # basic | full; None: the level requested
    reason: str = ""  # a snake_case code for a rejection
    expires_on: date | None = None  # the document's expiry, if the provider reports it


@dataclass(frozen=True)
class SubmitResult:
    provider_reference: str
    decision: Decision | None = None


class ProviderUnavailable(RetryableError):
    code = "kyc_provider_unavailable"


class ProviderRefused(PlatformError):
    status, code, title = 422, "kyc_provider_refused", "Refused by the KYC provider"


class CallbackRejected(Forbidden):
    code = "invalid_callback_signature"


class MalformedCallback(InvalidInput):
    code = "invalid_callback"


class KycProvider(ABC):
    name: str

    @abstractmethod
    def submit(self, request: SubmissionRequest) -> SubmitResult: ...

    @abstractmethod
    def fetch_status(self, provider_reference: str) -> Decision | None: ...

    @abstractmethod
    def handle_callback(self, *, headers: Mapping[str, str], body: bytes) -> Decision: ...
