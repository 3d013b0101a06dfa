"""Back-office actions that need a second person: changing a tier's limits.

An Operator asks (admin.py builds and validates the request), a different Approver approves,
and the kernel runs `tier_limit_change_approved` once, inside the approval's transaction.
"""

from __future__ import annotations

from finfactory.backoffice.approvals import register_action
from finfactory.request_context import acting_as

from .tiers import tier_limit_change, tier_limit_value, tiers_get

TIER_LIMIT_CHANGE = "wallets.tier_limit_change"


def tier_limit_change_payload(*, tier: str, currency: str, field: str, value: int | None) -> dict:
    return {"tier": tier, "currency": currency, "field": field, "value": value}


def tier_limit_change_approved(payload: dict, *, approval) -> dict:
    """Apply the approved change; any refusal (the schedule moved on meanwhile, the value no
    longer fits) raises, and the kernel marks the request failed with nothing applied."""
    # The change is the approver's act: the audit record and the event name them.
    with acting_as(f"user:{approval.decided_by.get_username()}"):
        before = tier_limit_value(
            tiers_get().schedule, tier=payload["tier"], currency=payload["currency"], field=payload["field"]
        )
        applied = tier_limit_change(
            tier=payload["tier"],
            currency=payload["currency"],
            field=payload["field"],
            value=payload["value"],
            reason=f"{approval.reason} (approval {approval.public_id})",
        )
    return {**payload, "before": before, "version": applied.version}


def register() -> None:
    register_action(
        TIER_LIMIT_CHANGE,
        handler=tier_limit_change_approved,
        description="Change one limit of a wallet tier",
    )
