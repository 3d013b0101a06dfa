"""The actions a back office can request under maker-checker, registered by the contexts.

A context registers its actions when its app is ready, e.g. a manual ledger adjustment:

    register_action("ledger.manual_adjustment", handler=adjust, description="Adjust an account")

The handler runs once, inside the approval's transaction, after a second person approved:
`handler(payload, approval=approval) -> dict | None`; what it returns is stored as the result.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from finfactory.backoffice.models import ApprovalRequest

Handler = Callable[..., "dict[str, Any] | None"]


@dataclass(frozen=True)
class RegisteredAction:
    name: str
    handler: Handler
    description: str


_registry: dict[str, RegisteredAction] = {}


def register_action(name: str, *, handler: Handler, description: str) -> RegisteredAction:
    """Register (or re-register, e.g. on autoreload) the handler of an action name."""
    if not name or len(name) > 100:
        raise ValueError(f"an action name of 1-100 characters is required, got {name!r}")
    if not callable(handler):
        raise TypeError(f"the handler of {name!r} is not callable")
    registered = RegisteredAction(name=name, handler=handler, description=description)
    _registry[name] = registered
    return registered


def unregister_action(name: str) -> None:
    _registry.pop(name, None)


def registered_actions() -> dict[str, RegisteredAction]:
    return dict(_registry)


def action_get(name: str) -> RegisteredAction | None:
    return _registry.get(name)


def action_run(approval: "ApprovalRequest") -> "dict[str, Any] | None":
    """Run the approved request's handler. LookupError if its action is no longer registered."""
    registered = _registry.get(approval.action)
    if registered is None:
        raise LookupError(f"action {approval.action!r} is no longer registered")
    return registered.handler(dict(approval.payload), approval=approval)
