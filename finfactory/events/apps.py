from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "finfactory.events"
    label = "events"
    verbose_name = "Event catalog"

    def ready(self):
        # Every app's events.py registers its EVENTS; consumers.py registers its handlers.
        from finfactory.events.catalog import register_event_types

        for app_config in self.apps.get_app_configs():
            module = _import_optional(f"{app_config.name}.events")
            if module is not None and hasattr(module, "EVENTS"):
                register_event_types(module.EVENTS, owner=app_config.name)
        autodiscover_modules("consumers")


def _import_optional(path: str):
    from importlib import import_module
    from importlib.util import find_spec

    try:
        if find_spec(path) is None:
            return None
    except ModuleNotFoundError:
        return None
    return import_module(path)
