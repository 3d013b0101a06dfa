from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "finfactory.platform"
    label = "platform"
    verbose_name = "Platform operations"
