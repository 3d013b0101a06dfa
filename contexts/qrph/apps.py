from django.apps import AppConfig


class QrphConfig(AppConfig):
    name = "contexts.qrph"
    label = "qrph"
    verbose_name = "QR Ph"
