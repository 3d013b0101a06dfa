from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "contexts.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
