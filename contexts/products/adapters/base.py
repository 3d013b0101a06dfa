"""The one interface of a payout adapter (cash-outs to a bank account or an e-money partner), and
the values it exchanges.

An adapter translates between orchestration and one payout provider; it decides nothing and
touches no table. It is called outside any database transaction:

- `submit(request)` hands a payout to the provider and returns the provider's reference (and the
  result, if the provider answers at once). A repeated `request.payout_id` must be the same
  payout: a lost submission is submitted again (the resume sweep).
- `fetch_status(provider_reference)` asks for the result: None while undecided.

Errors: `PayoutUnavailable` (try again later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from finfactory.errors import RetryableError

SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True)
class PayoutRequest:
    payout_id: str
    amount: int  # minor units
    currency: str
    destination: dict


@dataclass(frozen=True)
class PayoutResult:
    payout_id: str
    outcome: str  # succeeded | failed
    provider_reference: str
    reason: str = ""  # snake_case, for a failure


@dataclass(frozen=True)
class SubmitResult:
    provider_reference: str
    result: PayoutResult | None = None


class PayoutUnavailable(RetryableError):
    code = "payout_unavailable"


class PayoutAdapter(ABC):
    name: str

    @abstractmethod
    def submit(self, request: PayoutRequest) -> SubmitResult: ...

    @abstractmethod
    def fetch_status(self, provider_reference: str) -> PayoutResult | None: ...
