"""The one interface of a QR Ph network adapter (off-us payments), and the values it exchanges.

An adapter translates between qrph and one network (InstaPay through a clearing switch); it
decides nothing itself and touches no table. qrph calls it outside any database transaction:

- `submit(request)` hands a payment to the network and returns the network's reference (and a
  result, if the network answers at once). A repeated `request.payment_id` must be treated as
  the same payment: qrph may submit more than once (a lost task is re-submitted by the beat).
- `fetch_status(network_reference)` asks for the result: None while undecided.

Errors: `NetworkUnavailable` (try again later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from finfactory.errors import RetryableError

CONFIRMED = "confirmed"
FAILED = "failed"


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str
    amount: int  # centavos
    currency: str
    acquirer_bic: str
    merchant_id: str
    payload: str


@dataclass(frozen=True)
class NetworkResult:
    payment_id: str
    outcome: str  # confirmed | failed
    network_reference: str
    reason: str = ""  # snake_case, for a failure


@dataclass(frozen=True)
class SubmitResult:
    network_reference: str
    result: NetworkResult | None = None


class NetworkUnavailable(RetryableError):
    code = "qr_network_unavailable"


class NetworkAdapter(ABC):
    name: str

    @abstractmethod
    def submit(self, request: PaymentRequest) -> SubmitResult: ...

    @abstractmethod
    def fetch_status(self, network_reference: str) -> NetworkResult | None: ...
