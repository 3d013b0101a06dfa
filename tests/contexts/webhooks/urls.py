"""Test-only URLs: the webhook endpoint views at the paths config.urls_api will mount them on,
in front of the tenant URL configuration (API and admin)."""

from django.urls import include, path

from contexts.products.rest import webhooks

urlpatterns = [
    path("v1/webhook-endpoints", webhooks.WebhookEndpointListCreateView.as_view(), name="webhook-endpoints"),
    path(
        "v1/webhook-endpoints/<str:endpoint_id>", webhooks.WebhookEndpointDetailView.as_view(), name="webhook-endpoint"
    ),
    path(
        "v1/webhook-endpoints/<str:endpoint_id>/rotate-secret",
        webhooks.WebhookEndpointRotateSecretView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path(
        "v1/webhook-endpoints/<str:endpoint_id>/deliveries",
        webhooks.WebhookDeliveryListView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "v1/webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        webhooks.WebhookDeliveryRedeliverView.as_view(),
        name="webhook-delivery-redeliver",
    ),
    path("", include("config.urls_tenant")),
]
