"""Routes of the unified product API under `/v1/` (mounted by config.urls_api)."""

from django.urls import path

from . import statements, webhooks
from . import views as v

urlpatterns = [
    path("customers", v.CustomerListView.as_view(), name="customers"),
    path("customers/<str:customer_id>", v.CustomerDetailView.as_view(), name="customer"),
    path("customers/<str:customer_id>/kyc", v.CustomerKycView.as_view(), name="customer-kyc"),
    path("wallets", v.WalletListView.as_view(), name="wallets"),
    path("wallets/<str:wallet_id>", v.WalletDetailView.as_view(), name="wallet"),
    path("wallets/<str:wallet_id>/balance", v.WalletBalanceView.as_view(), name="wallet-balance"),
    path("wallets/<str:wallet_id>/statement", statements.WalletStatementView.as_view(), name="wallet-statement"),
    path("wallets/<str:wallet_id>/suspend", v.WalletSuspendView.as_view(), name="wallet-suspend"),
    path("wallets/<str:wallet_id>/activate", v.WalletActivateView.as_view(), name="wallet-activate"),
    path("wallets/<str:wallet_id>/close", v.WalletCloseView.as_view(), name="wallet-close"),
    path("cash-ins", v.CashInView.as_view(), name="cash-ins"),
    path("cash-ins/<str:operation_id>", v.CashInDetailView.as_view(), name="cash-in"),
    path("cash-outs", v.CashOutView.as_view(), name="cash-outs"),
    path("cash-outs/<str:operation_id>", v.CashOutDetailView.as_view(), name="cash-out"),
    path("transfers", v.TransferView.as_view(), name="transfers"),
    path("transfers/<str:operation_id>", v.TransferDetailView.as_view(), name="transfer"),
    path("qr-codes", v.QrCodeCreateView.as_view(), name="qr-codes"),
    path("qr-codes/decode", v.QrDecodeView.as_view(), name="qr-codes-decode"),
    path("qr-codes/<str:qr_code_id>", v.QrCodeDetailView.as_view(), name="qr-code"),
    path("qr-codes/<str:qr_code_id>/image.png", v.QrCodeImageView.as_view(), name="qr-code-image"),
    path("qr-payments", v.QrPaymentView.as_view(), name="qr-payments"),
    path("qr-payments/<str:operation_id>", v.QrPaymentDetailView.as_view(), name="qr-payment"),
    path("transactions", v.TransactionListView.as_view(), name="transactions"),
    path("transactions/<str:transaction_id>", v.TransactionDetailView.as_view(), name="transaction"),
    path("webhook-endpoints", webhooks.WebhookEndpointListCreateView.as_view(), name="webhook-endpoints"),
    path("webhook-endpoints/<str:endpoint_id>", webhooks.WebhookEndpointDetailView.as_view(), name="webhook-endpoint"),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret",
        webhooks.WebhookEndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries",
        webhooks.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        webhooks.WebhookDeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
]
