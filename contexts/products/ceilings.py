"""A wallet's ledger ceiling follows its tier's maximum balance.

Wallets cannot see balances, so the maximum balance is enforced by the ledger (the wallet
account's `max_balance`, checked under its row lock). When a tier goes down below a wallet's
current balance, the ledger refuses a ceiling under the balance: the ceiling is then the balance
itself, which blocks further credits without taking anything away, until a later change.
"""

from __future__ import annotations

from contexts.ledger import api as ledger_api
from contexts.wallets import api as wallets_api
from finfactory.errors import PlatformError

from .models import WalletAccount
from .workflows import wallet_account


def _apply(account_id: str, max_balance: int | None) -> None:
    try:
        ledger_api.account_set_limits(account_id=account_id, overdraft_limit=None, max_balance=max_balance)
    except PlatformError as exc:
        if exc.code != "limit_below_balance":
            raise
        posted = ledger_api.balance_get(account_id=account_id).posted
        ledger_api.account_set_limits(account_id=account_id, overdraft_limit=None, max_balance=posted)


def wallet_ceiling_apply(*, wallet_id: str, max_balance: int | None) -> None:
    _apply(wallet_account(wallet_id), max_balance)


def wallet_tier_ceilings_apply(*, currency: str, tier: str, max_balance: int | None) -> int:
    """Every open wallet of the tier; returns how many accounts were set."""
    done, cursor = 0, None
    while True:
        page = wallets_api.wallet_list(currency=currency, tier=tier, limit=100, cursor=cursor)
        wallet_ids = [wallet.id for wallet in page.items if wallet.status != "closed"]
        accounts = WalletAccount.objects.filter(wallet_id__in=wallet_ids).values_list("account_id", flat=True)
        for account_id in accounts:
            _apply(account_id, max_balance)
            done += 1
        if not page.has_more:
            return done
        cursor = page.next_cursor
