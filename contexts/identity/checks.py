"""System checks (`manage.py check`) of identity's settings: a misconfigured provider fails at
start-up, not at a customer's first submission."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, register

from .adapters import PROVIDERS


@register("identity")
def identity_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    chosen = {settings.IDENTITY_KYC_PROVIDER, *settings.IDENTITY_KYC_PROVIDER_BY_TENANT.values()}
    unknown = sorted(name for name in chosen if name not in PROVIDERS)
    if unknown:
        errors.append(
            Error(
                f"Unknown KYC provider(s): {', '.join(unknown)}.",
                hint=f"IDENTITY_KYC_PROVIDER and IDENTITY_KYC_PROVIDER_BY_TENANT take {', '.join(PROVIDERS)}.",
                id="identity.E001",
            )
        )
    if "vendor" in chosen:
        missing = []
        if urlsplit(settings.IDENTITY_VENDOR_BASE_URL).scheme not in ("http", "https"):
            missing.append("IDENTITY_VENDOR_BASE_URL")
        if not settings.IDENTITY_VENDOR_API_KEY:
            missing.append("IDENTITY_VENDOR_API_KEY")
        if not settings.IDENTITY_VENDOR_WEBHOOK_SECRETS:
            missing.append("IDENTITY_VENDOR_WEBHOOK_SECRETS")
        if missing:
            errors.append(
                Error(f"The vendor KYC provider is chosen but {', '.join(missing)} is not set.", id="identity.E002")
            )
    if settings.IDENTITY_KYC_MAX_RESUBMISSIONS < 0 or settings.IDENTITY_KYC_VALIDITY_DAYS < 1:
        errors.append(
            Error(
                "IDENTITY_KYC_MAX_RESUBMISSIONS must be >= 0 and IDENTITY_KYC_VALIDITY_DAYS >= 1.", id="identity.E003"
            )
        )
    if not 0 < settings.IDENTITY_WATCHLIST_MATCH_THRESHOLD <= 100:
        errors.append(Error("IDENTITY_WATCHLIST_MATCH_THRESHOLD must be from 1 to 100.", id="identity.E004"))
    return errors
