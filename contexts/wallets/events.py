"""Events wallets publishes (through the outbox, in the transaction of the change).

Ids are public ids; amounts are integers in minor units of the stated currency; a limit of
`null` means no limit of that kind. Consumers subscribe by name through the kernel and must not
import this module.
"""

from finfactory.events.catalog import EventType
from finfactory.events.schema import CURRENCY, DATE_TIME, strict_object

_WALLET_ID = {"type": "string", "pattern": "^wal_[0-9a-z]{26}$"}
_CUSTOMER_ID = {"type": "string", "minLength": 1, "maxLength": 40}
_TIER = {"type": "string", "minLength": 1, "maxLength": 40}
_KYC_LEVEL = {"enum": ["none", "basic", "full"]}
_REASON = {"type": "string", "minLength": 1, "maxLength": 500}
_LIMIT = {"type": ["integer", "null"], "minimum": 0}
_STATUS = {"enum": ["active", "suspended", "closed"]}


_FLOW = strict_object(
    {
        "min_amount": {"type": "integer", "minimum": 1},
        "max_amount": _LIMIT,
        "daily_amount": _LIMIT,
        "daily_count": _LIMIT,
        "monthly_amount": _LIMIT,
        "monthly_count": _LIMIT,
    }
)

WALLET_CREATED = EventType(
    name="wallet.created",
    version=1,
    aggregate_type="wallet",
    description="A wallet was opened (it starts active) for a customer in one currency.",
    schema=strict_object(
        {
            "wallet_id": _WALLET_ID,
            "customer_id": _CUSTOMER_ID,
            "currency": CURRENCY,
            "status": {"const": "active"},
            "tier": _TIER,
            "kyc_level": _KYC_LEVEL,
            "max_balance": _LIMIT,
            "created_at": DATE_TIME,
        }
    ),
)


def _transition(target: str, sources: list[str], description: str, extra: dict | None = None) -> EventType:
    return EventType(
        name=f"wallet.{target}",
        version=1,
        aggregate_type="wallet",
        description=description,
        schema=strict_object(
            {
                "wallet_id": _WALLET_ID,
                "customer_id": _CUSTOMER_ID,
                "currency": CURRENCY,
                "status": {"const": {"activated": "active"}.get(target, target)},
                "previous_status": {"enum": sources},
                "reason": _REASON,
                **(extra or {}),
            }
        ),
    )


WALLET_ACTIVATED = _transition(
    "activated", ["suspended"], "A suspended wallet was reactivated: it can send and receive again."
)
WALLET_SUSPENDED = _transition(
    "suspended", ["active"], "A wallet was suspended: it can neither send nor receive until reactivated."
)
WALLET_CLOSED = _transition(
    "closed",
    ["active", "suspended"],
    "A wallet was closed for good, on the caller's evidence that its ledger account is empty.",
    {
        "closing_balance": strict_object(
            {
                "ledger_account_id": {"type": "string", "pattern": "^acc_"},
                "posted": {"const": 0},
                "held": {"const": 0},
                "sequence": {"type": "integer", "minimum": 0},
            }
        )
    },
)

_WALLET_SCOPE = strict_object(
    {
        "scope": {"const": "wallet"},
        "wallet_id": _WALLET_ID,
        "customer_id": _CUSTOMER_ID,
        "currency": CURRENCY,
        "tier": _TIER,
        "previous_tier": _TIER,
        "kyc_level": _KYC_LEVEL,
        "previous_kyc_level": _KYC_LEVEL,
        "max_balance": _LIMIT,
        "cause": {"enum": ["kyc.verified", "kyc.expired"]},
        "cause_event_id": {"type": "string", "minLength": 1, "maxLength": 40},
    }
)

_TIER_SCOPE = strict_object(
    {
        "scope": {"const": "tier"},
        "tier": _TIER,
        "name": {"type": "string"},
        "currency": CURRENCY,
        "kyc_level": _KYC_LEVEL,
        "max_balance": _LIMIT,
        "flows": strict_object({"cash_in": _FLOW, "cash_out": _FLOW, "transfer_out": _FLOW}),
        "version": {"type": "integer", "minimum": 1},
    }
)

WALLET_LIMIT_UPDATED = EventType(
    name="wallet.limit.updated",
    version=1,
    aggregate_type="wallet",
    description=(
        "The limits that apply to wallets changed. scope=wallet: one wallet moved to another tier because "
        "its customer's KYC level changed (aggregate: the wallet). scope=tier: a tier's definition changed; "
        "every wallet of that currency whose customer has that KYC level now has these limits "
        "(aggregate type wallet_tier, id '<currency>:<tier>')."
    ),
    schema={"oneOf": [_WALLET_SCOPE, _TIER_SCOPE]},
)

EVENTS = [WALLET_CREATED, WALLET_ACTIVATED, WALLET_SUSPENDED, WALLET_CLOSED, WALLET_LIMIT_UPDATED]
