"""SMS and push sandboxes: deterministic, steerable by the address, recording what they "sent"
(SandboxMessage) so tests and the back office can see it.

- SMS: a number ending in 0000 is rejected for good (`sms_number_invalid`); one ending in 9999
  is unavailable every time (`sms_provider_unavailable`); any other is accepted.
- Push: a token starting with `fail-` is unavailable every time (`push_provider_unavailable`);
  one starting with `reject-` is rejected (`push_token_unregistered`); any other is accepted.
"""

from __future__ import annotations

from ..models import SandboxMessage
from .base import ChannelAdapter, ChannelRejected, ChannelUnavailable, OutgoingMessage, SendResult


def _record(message: OutgoingMessage) -> SendResult:
    row = SandboxMessage.objects.create(
        channel=message.channel, to=message.to, body=message.body, notification_id=message.notification_id
    )
    return SendResult(provider_message_id=f"sandbox-{message.channel}-{row.pk}")


class SmsSandboxAdapter(ChannelAdapter):
    name = "sms_sandbox"
    channel = "sms"

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.to.endswith("0000"):
            raise ChannelRejected("sms_number_invalid")
        if message.to.endswith("9999"):
            raise ChannelUnavailable("sms_provider_unavailable")
        return _record(message)


class PushSandboxAdapter(ChannelAdapter):
    name = "push_sandbox"
    channel = "push"

    def send(self, message: OutgoingMessage) -> SendResult:
        if message.to.startswith("fail-"):
            raise ChannelUnavailable("push_provider_unavailable")
        if message.to.startswith("reject-"):
            raise ChannelRejected("push_token_unregistered")
        return _record(message)
