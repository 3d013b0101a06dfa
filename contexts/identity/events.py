"""Events identity publishes (through the outbox, in the transaction of the change).

Every event belongs to the customer's history (aggregate `customer`, id `cus_…`), so a consumer
sees a customer's events in order: created, started, verified, expired. Payloads carry ids,
statuses, levels and reason codes — never a name, e-mail, phone, birth date, address or ID
number: events are kept in the outbox and delivered to webhooks, while personal data stays here,
encrypted. A consumer that needs more asks contexts.identity.api.

Wallets set tiers from `kyc.verified` and `kyc.expired`: both carry `customer_id` and `level`
(the level the customer has after the event).
"""

from finfactory.events.catalog import EventType
from finfactory.events.schema import DATE_TIME, strict_object

_ID = {"type": "string", "minLength": 1, "maxLength": 100}
_LEVEL = {"enum": ["none", "basic", "full"]}
_VERIFIED_LEVEL = {"enum": ["basic", "full"]}
_REASON = {"type": "string", "pattern": "^[a-z0-9_]{1,64}$"}
_COUNT = {"type": "integer", "minimum": 0}


CUSTOMER_CREATED = EventType(
    name="customer.created",
    version=1,
    aggregate_type="customer",
    description="A customer was created (KYC not started).",
    schema=strict_object({"customer_id": _ID, "external_id": {"type": ["string", "null"]}, "created_at": DATE_TIME}),
)

KYC_STARTED = EventType(
    name="kyc.started",
    version=1,
    aggregate_type="customer",
    description="A KYC submission was made and handed to the provider; the customer's KYC is pending.",
    schema=strict_object(
        {
            "customer_id": _ID,
            "kyc_id": _ID,
            "submission_id": _ID,
            "attempt": {"type": "integer", "minimum": 1},
            "requested_level": _VERIFIED_LEVEL,
            "provider": {"type": "string", "minLength": 1},
        }
    ),
)

KYC_VERIFIED = EventType(
    name="kyc.verified",
    version=1,
    aggregate_type="customer",
    description="The customer is verified at `level` until `expires_at`.",
    schema=strict_object(
        {
            "customer_id": _ID,
            "kyc_id": _ID,
            "submission_id": _ID,
            "level": _VERIFIED_LEVEL,
            "verified_at": DATE_TIME,
            "expires_at": DATE_TIME,
        }
    ),
)

KYC_REJECTED = EventType(
    name="kyc.rejected",
    version=1,
    aggregate_type="customer",
    description="The provider rejected the submission; `resubmissions_left` more may be made.",
    schema=strict_object(
        {
            "customer_id": _ID,
            "kyc_id": _ID,
            "submission_id": _ID,
            "attempt": {"type": "integer", "minimum": 1},
            "reason": _REASON,
            "resubmissions_left": _COUNT,
        }
    ),
)

KYC_EXPIRED = EventType(
    name="kyc.expired",
    version=1,
    aggregate_type="customer",
    description="The verification reached its expiry: the customer's level is now `none`.",
    schema=strict_object(
        {
            "customer_id": _ID,
            "kyc_id": _ID,
            "level": {"const": "none"},
            "previous_level": _VERIFIED_LEVEL,
            "expired_at": DATE_TIME,
        }
    ),
)

RISK_FLAGGED = EventType(
    name="risk.flagged",
    version=1,
    aggregate_type="customer",
    description="The customer's name matched a watchlist entry; verification is blocked until the flag is cleared.",
    schema=strict_object(
        {
            "customer_id": _ID,
            "flag_id": _ID,
            "source": {"const": "watchlist"},
            "watchlist_entry_id": _ID,
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
        }
    ),
)

EVENTS = [CUSTOMER_CREATED, KYC_STARTED, KYC_VERIFIED, KYC_REJECTED, KYC_EXPIRED, RISK_FLAGGED]
