"""Policy checks a product operation passes before anything is written: the tenant, the product's
rules (template and configuration), the wallets, KYC. Each refusal is the API's error code, with
the field named; none writes anything (every check is a read).

Also the one mapping of primitives' refusals to the API's codes (API.md): a ledger ceiling is the
product's `limit_exceeded`, a frozen account its `wallet_not_active`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from contexts.identity import api as identity_api
from contexts.qrph import api as qrph_api
from contexts.wallets import api as wallets_api
from finfactory.errors import BusinessRuleViolation, FieldError, Forbidden, InvalidInput, NotFound, PlatformError
from finfactory.money import require_amount, require_currency
from finfactory.tenancy.models import Tenant, TenantStatus
from finfactory.tenantconfig import flag_enabled

from .configuration import ProductConfigDTO

KYC_ORDER = {"none": 0, "basic": 1, "full": 2}
# The product's flows, and the kernel flag that can switch each off (a kill switch per tenant or
# for the platform), and the template feature that offers it.
FLOW_FEATURES = {"cash_in": "cash_in", "cash_out": "cash_out", "transfer": "transfers", "qr_payment": "qr_payments"}


def refuse(code: str, field: str, message: str, *, status=BusinessRuleViolation, **extra) -> PlatformError:
    return status(message, code=code, errors=[FieldError(field, message, code)], **extra)


def tenant_active() -> None:
    tenant = getattr(connection, "tenant", None)
    status = getattr(tenant, "status", None)
    if status is None:  # a stand-in tenant (schema_context): read the row
        status = Tenant.objects.filter(schema_name=connection.schema_name).values_list("status", flat=True).first()
    if status != TenantStatus.ACTIVE:
        raise refuse("tenant_suspended", "tenant", "The tenant is suspended: no money moves.", status=Forbidden)


def flow_offered(flow: str, config: ProductConfigDTO) -> None:
    feature = FLOW_FEATURES[flow]
    if not config.feature(feature) or not flag_enabled(f"products.{feature}_enabled"):
        raise refuse("feature_not_available", "operation", f"The product does not offer {flow.replace('_', '-')}s.")


def amount(value: object) -> int:
    return require_amount(value)


def currency(value: object, config: ProductConfigDTO) -> str:
    code = require_currency(value)
    if not config.allows_currency(code):
        raise refuse("currency_not_supported", "currency", f"The product does not offer {code}.")
    return code


def reference(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 255 or not value.isascii() or not value.isprintable():
        raise InvalidInput(
            "reference: 1-255 printable ASCII characters.",
            errors=[FieldError("reference", "1-255 printable ASCII characters.", "invalid")],
        )
    return value


@dataclass(frozen=True)
class WalletView:
    id: str
    customer_id: str
    currency: str
    status: str
    kyc_level: str


def wallet(wallet_id: object, *, field: str, currency: str | None = None, must_be_active: bool = True) -> WalletView:
    if not isinstance(wallet_id, str) or not wallet_id:
        raise InvalidInput(f"{field} is required.", errors=[FieldError(field, "This field is required.", "required")])
    try:
        found = wallets_api.wallet_get(wallet_id=wallet_id)
    except PlatformError as exc:
        if exc.status == 404:
            raise refuse("not_found", field, "No such wallet.", status=NotFound) from exc
        raise
    if must_be_active and found.status != "active":
        raise refuse("wallet_not_active", field, f"The wallet is {found.status}.")
    if currency is not None and found.currency != currency:
        raise refuse("currency_mismatch", "currency", f"The wallet holds {found.currency}, not {currency}.")
    return WalletView(found.id, found.customer_id, found.currency, found.status, found.kyc_level)


def kyc(flow: str, holder: WalletView, config: ProductConfigDTO) -> None:
    needed = config.kyc.get(flow, "none")
    if KYC_ORDER[holder.kyc_level] < KYC_ORDER[needed]:
        raise refuse(
            "kyc_required", "wallet_id", f"A {flow.replace('_', '-')} needs KYC level {needed}.", required_level=needed
        )


def payee(destination_wallet_id: str, config: ProductConfigDTO, *, field: str) -> None:
    """Closed-loop products pay only the tenant's merchants; benefit products only merchants of
    the allowed categories; sharia products no merchant of a blocked category."""
    if config.payees_scope == "any" and config.allowed_mccs is None and config.blocked_mccs is None:
        return
    try:
        merchant = qrph_api.merchant_profile_for_wallet(wallet_id=destination_wallet_id)
    except PlatformError:
        merchant = None
    if merchant is None:
        if config.payees_scope == "own_merchants" or config.allowed_mccs is not None:
            raise refuse("payee_not_allowed", field, "The product pays only the tenant's merchants.")
        return  # a person: categories concern merchants only
    mcc_allowed(merchant.mcc, config, field=field)


def mcc_allowed(mcc: str | None, config: ProductConfigDTO, *, field: str) -> None:
    if (config.allowed_mccs is not None and mcc not in config.allowed_mccs) or (
        config.blocked_mccs is not None and mcc in config.blocked_mccs
    ):
        raise refuse("payee_not_allowed", field, f"The product does not pay merchants of category {mcc or 'unknown'}.")


def customer_exists(customer_id: object) -> None:
    if not isinstance(customer_id, str) or not customer_id:
        raise InvalidInput(
            "customer_id is required.", errors=[FieldError("customer_id", "This field is required.", "required")]
        )
    identity_api.customer_get(customer_id=customer_id)


# --- primitives' refusals in the API's words ------------------------------------------------------

_CODES = {
    "max_balance_exceeded": "limit_exceeded",
    "account_not_active": "wallet_not_active",
}


def api_error(exc: PlatformError) -> PlatformError:
    """The API's version of a primitive's refusal (the same error when it already is one)."""
    code = _CODES.get(exc.code)
    if code is None:
        return exc
    errors = [FieldError(e.field, e.message, code) for e in exc.errors] or [FieldError("amount", exc.detail, code)]
    return type(exc)(exc.detail, code=code, errors=errors, **exc.extra)
