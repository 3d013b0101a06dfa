"""The one interface of a notification channel adapter, and the values it exchanges.

`send(message)` hands one message to the provider and returns its reference. It raises
`ChannelUnavailable` when trying again later may work (provider down, timeout, throttled) and
`ChannelRejected` when it never will (invalid address, number barred). Error messages name a code,
never the address. An adapter decides nothing else and touches no table of ours (the sandboxes
record what they "sent" in their own table, for tests and the back office).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: str
    channel: str
    to: str = field(repr=False)  # e-mail address, E.164 phone number or push token
    subject: str
    body: str


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str


class ChannelError(Exception):
    pass


class ChannelUnavailable(ChannelError):
    """Retryable."""


class ChannelRejected(ChannelError):
    """Permanent: retrying sends nothing."""


class ChannelAdapter(ABC):
    name: str
    channel: str

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult: ...
