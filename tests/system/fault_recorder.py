"""Worker-only (`celery -I tests.system.fault_recorder`, never imported by the test process): one
extra subscriber per event family of the catalog (`journal.*`, `operation.*`, …) that writes a
`fault_effect` row for every event it is handed, next to the platform's own subscribers. The
test counts those rows to see each event of the tenant delivered exactly once.
"""

from finfactory.events.catalog import catalog
from finfactory.events.subscribers import Event, Subscription, register_subscription

from .fault_consumers import record

FAMILIES = sorted({event_type.name.split(".")[0] for event_type in catalog()} - {"test", "faults"})


def _recorder(name: str):
    def handler(event: Event) -> None:
        record(name, event)

    return handler


for family in FAMILIES:
    name = f"faults.recorder.{family}"
    register_subscription(Subscription(name=name, event_type=f"{family}.*", handler=_recorder(name)))
