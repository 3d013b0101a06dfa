"""The templates shipped in code, per (kind, channel): used unless the tenant saved its own
(NotificationTemplate, editable in the admin). Plain text, Django template syntax.

Variables (README): `customer_id`; kyc: `level`, `reason`, `resubmissions_left`; money:
`amount` (formatted with finfactory.money.format_minor, e.g. 1500.00), `currency`, `wallet_id`,
`counterparty_wallet_id`, `operation_id`, `operation_kind`; wallet.suspended: `wallet_id`, `reason`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Channel, Kind


@dataclass(frozen=True)
class DefaultTemplate:
    subject: str  # e-mail only
    body: str


_EMAIL, _SMS, _PUSH = Channel.EMAIL, Channel.SMS, Channel.PUSH

DEFAULT_TEMPLATES: dict[tuple[str, str], DefaultTemplate] = {
    (Kind.KYC_VERIFIED, _EMAIL): DefaultTemplate(
        "Your identity is verified",
        "Good news: your identity is verified at the {{ level }} level. Your wallet limits are updated.",
    ),
    (Kind.KYC_VERIFIED, _SMS): DefaultTemplate("", "FinFactory: your identity is verified ({{ level }} level)."),
    (Kind.KYC_VERIFIED, _PUSH): DefaultTemplate("", "Identity verified ({{ level }} level)."),
    (Kind.KYC_REJECTED, _EMAIL): DefaultTemplate(
        "We could not verify your identity",
        "We could not verify your identity (reason: {{ reason }}). "
        "You may submit again {{ resubmissions_left }} more time{{ resubmissions_left|pluralize }}.",
    ),
    (Kind.KYC_REJECTED, _SMS): DefaultTemplate(
        "", "FinFactory: identity verification failed ({{ reason }}). Resubmissions left: {{ resubmissions_left }}."
    ),
    (Kind.KYC_REJECTED, _PUSH): DefaultTemplate("", "Identity verification failed ({{ reason }})."),
    (Kind.MONEY_IN, _EMAIL): DefaultTemplate(
        "You received {{ currency }} {{ amount }}",
        "{{ currency }} {{ amount }} was credited to your wallet {{ wallet_id }} (reference {{ operation_id }}).",
    ),
    (Kind.MONEY_IN, _SMS): DefaultTemplate(
        "", "FinFactory: you received {{ currency }} {{ amount }} in wallet {{ wallet_id }}. Ref {{ operation_id }}."
    ),
    (Kind.MONEY_IN, _PUSH): DefaultTemplate("", "You received {{ currency }} {{ amount }}."),
    (Kind.MONEY_OUT, _EMAIL): DefaultTemplate(
        "{{ currency }} {{ amount }} left your wallet",
        "{{ currency }} {{ amount }} was debited from your wallet {{ wallet_id }} (reference {{ operation_id }}). "
        "If this was not you, contact support now.",
    ),
    (Kind.MONEY_OUT, _SMS): DefaultTemplate(
        "",
        "FinFactory: {{ currency }} {{ amount }} was debited from wallet {{ wallet_id }}. Ref {{ operation_id }}. "
        "Not you? Call support.",
    ),
    (Kind.MONEY_OUT, _PUSH): DefaultTemplate("", "{{ currency }} {{ amount }} left your wallet."),
    (Kind.WALLET_SUSPENDED, _EMAIL): DefaultTemplate(
        "Your wallet is suspended",
        "Your wallet {{ wallet_id }} is suspended (reason: {{ reason }}): it can neither send nor receive "
        "until it is reactivated. Contact support if you did not expect this.",
    ),
    (Kind.WALLET_SUSPENDED, _SMS): DefaultTemplate(
        "", "FinFactory: your wallet {{ wallet_id }} is suspended ({{ reason }}). Contact support."
    ),
    (Kind.WALLET_SUSPENDED, _PUSH): DefaultTemplate("", "Your wallet is suspended ({{ reason }})."),
    (Kind.WEBHOOK_ENDPOINT_DISABLED, _EMAIL): DefaultTemplate(
        "Webhook endpoint {{ endpoint_id }} was disabled",
        "Deliveries to your webhook endpoint {{ endpoint_id }} ({{ url_host }}) failed {{ failure_streak }} times "
        "in a row since {{ failing_since }}, so it was disabled: {{ reason }}. Fix the receiver, then enable the "
        "endpoint again; events from the meantime can be redelivered.",
    ),
}
