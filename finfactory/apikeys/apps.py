from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    name = "finfactory.apikeys"
    label = "apikeys"
