"""Channel adapters by name; NOTIFICATIONS_CHANNEL_ADAPTERS says which one serves each channel."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import ChannelAdapter
from .email import EmailAdapter
from .sandbox import PushSandboxAdapter, SmsSandboxAdapter

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    adapter.name: adapter for adapter in (EmailAdapter, SmsSandboxAdapter, PushSandboxAdapter)
}


def channel_adapter(channel: str) -> ChannelAdapter:
    name = settings.NOTIFICATIONS_CHANNEL_ADAPTERS.get(channel)
    adapter = ADAPTERS.get(name or "")
    if adapter is None or adapter.channel != channel:
        raise ImproperlyConfigured(f"NOTIFICATIONS_CHANNEL_ADAPTERS[{channel!r}] names no {channel} adapter")
    return adapter()
