"""The rule pack a tenant starts from (`manage.py fraud_rules --install-defaults`): one rule of each
kind, tuned for a PHP stored-value wallet. Amounts are centavos. Each is an ordinary rule once
installed: versioned, edited in the back office, audited."""

DEFAULT_RULES = [
    {
        "code": "block-list",
        "name": "Anything on the block list",
        "kind": "block_list",
        "params": {},
        "action": "decline",
        "weight": 1000,
    },
    {
        "code": "very-large-amount",
        "name": "PHP 500,000 or more in one movement",
        "kind": "amount_threshold",
        "params": {"currency": "PHP", "min_amount": 50_000_000},
        "action": "decline",
        "weight": 400,
    },
    {
        "code": "large-amount",
        "name": "PHP 50,000 or more in one movement",
        "kind": "amount_threshold",
        "params": {"currency": "PHP", "min_amount": 5_000_000},
        "action": "review",
        "weight": 150,
    },
    {
        "code": "customer-burst",
        "name": "More than 10 movements of a customer in an hour",
        "kind": "velocity",
        "params": {"scope": "customer", "window_seconds": 3_600, "max_count": 10},
        "action": "review",
        "weight": 200,
    },
    {
        "code": "customer-daily-amount",
        "name": "More than PHP 100,000 moved by a customer in 24 hours",
        "kind": "velocity",
        "params": {"scope": "customer", "window_seconds": 86_400, "max_amount": 10_000_000, "currency": "PHP"},
        "action": "review",
        "weight": 200,
    },
    {
        "code": "counterparty-fan-in",
        "name": "More than 20 payers to one counterparty in 10 minutes",
        "kind": "velocity",
        "params": {"scope": "counterparty", "window_seconds": 600, "max_count": 20},
        "action": "review",
        "weight": 150,
    },
    {
        "code": "new-device",
        "name": "A device the customer never used before",
        "kind": "new_device",
        "params": {"min_known_devices": 1},
        "action": "score",
        "weight": 150,
    },
    {
        "code": "geo-mismatch",
        "name": "IP country differs from the device's, or impossible travel",
        "kind": "geo_mismatch",
        "params": {"compare_ip_to_location": True, "max_speed_kmh": 900},
        "action": "score",
        "weight": 250,
    },
]
