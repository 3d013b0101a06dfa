"""QR Ph network adapters behind one interface (base.NetworkAdapter). A tenant's QR configuration
names its network (default QRPH_NETWORK); a payment remembers the network it went to."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import NetworkAdapter
from .sandbox import SandboxNetwork

NETWORKS: dict[str, type[NetworkAdapter]] = {"sandbox": SandboxNetwork}


def network_get(name: str) -> NetworkAdapter:
    try:
        return NETWORKS[name]()
    except KeyError:
        raise ImproperlyConfigured(f"unknown QR Ph network {name!r}: one of {', '.join(NETWORKS)}") from None
