from django.apps import AppConfig


class ProductsConfig(AppConfig):
    name = "contexts.products"
    label = "products"
    verbose_name = "Products"

    def ready(self) -> None:
        from finfactory.tenantconfig import config_register

        # Kill switches per tenant (or for the platform), on top of what the template offers.
        for feature, text in (
            ("cash_in", "cash-ins"),
            ("cash_out", "cash-outs"),
            ("transfers", "wallet-to-wallet transfers"),
            ("qr_payments", "QR payments"),
        ):
            config_register(
                f"products.{feature}_enabled", kind="bool", default=True,
                description=f"Whether {text} are accepted (the product template must offer them too).",
            )  # fmt: skip
        config_register(
            "products.saga_lease_seconds", kind="int", default=60, minimum=5, maximum=3600,
            description="How long a runner owns an operation's step before the resume sweep may take it over.",
        )  # fmt: skip
        config_register(
            "products.payout_poll_seconds", kind="int", default=300, minimum=5, maximum=86_400,
            description="How long a cash-out waits for the payout provider's answer before asking it.",
        )  # fmt: skip
        config_register(
            "products.qr_poll_seconds", kind="int", default=300, minimum=5, maximum=86_400,
            description="How long an off-us QR payment waits for the network's answer before looking again.",
        )  # fmt: skip
