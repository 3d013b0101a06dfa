"""The scopes a key can hold. A view names the scope each method needs."""

TENANT_SCOPES = {
    "customers:read": "Read customers and their KYC status",
    "customers:write": "Create customers and submit KYC",
    "wallets:read": "Read wallets, balances, transactions and statements",
    "wallets:write": "Create wallets and change their status",
    "money:move": "Cash-ins, cash-outs, transfers and QR payments",
    "qr:write": "Generate and decode QR codes",
    "webhooks:manage": "Manage webhook endpoints",
    "events:read": "Read the event log",
    "audit:read": "Read the audit trail",
    "keys:manage": "Create, list, rotate and revoke API keys",
    "ledger:read": "Read ledger accounts, entries, balances, statements and the trial balance",
    "ledger:write": "Operate the ledger: open accounts, post entries, transfers, holds and reversals",
}
PLATFORM_SCOPES = {
    "tenants:read": "List tenants",
    "tenants:write": "Create, suspend and activate tenants",
}


def unknown_scopes(scopes, *, platform: bool = False) -> list[str]:
    known = PLATFORM_SCOPES if platform else TENANT_SCOPES
    return sorted({scope for scope in scopes if scope not in known})
