"""Tenant configuration and feature flags: registered keys, global and per-tenant values.

The public face for contexts:

    from finfactory.tenantconfig import config_register, config_get, flag_enabled, config_set, config_unset

config_register (no database) is importable while apps load; the others live in `services`,
which imports models, and are loaded on first use (so this package can be an installed app).
"""

from typing import TYPE_CHECKING

from finfactory.tenantconfig.registry import (
    ConfigDefinition,
    config_definition,
    config_definitions,
    config_register,
    config_unregister,
)

if TYPE_CHECKING:
    from finfactory.tenantconfig.services import ConfigEntry, config_get, config_set, config_unset, flag_enabled

__all__ = [
    "ConfigDefinition",
    "ConfigEntry",
    "config_definition",
    "config_definitions",
    "config_get",
    "config_register",
    "config_set",
    "config_unregister",
    "config_unset",
    "flag_enabled",
]

_FROM_SERVICES = frozenset({"ConfigEntry", "config_get", "config_set", "config_unset", "flag_enabled"})


def __getattr__(name: str):
    if name in _FROM_SERVICES:
        from finfactory.tenantconfig import services

        return getattr(services, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
