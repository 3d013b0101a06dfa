"""Prometheus metrics at `/metrics` (bearer METRICS_TOKEN): outbox depth, drain lag, dead letters
per tenant, read from the database at scrape time, and delivery counters kept in Redis by every
worker process (so no multiprocess registry is needed)."""

import hmac

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import CollectorRegistry


class OutboxCollector:
    def collect(self):
        from finfactory.outbox.drain import METRIC_KEY, _redis
        from finfactory.outbox.operations import outbox_state
        from finfactory.tenancy.context import for_each_tenant

        pending = GaugeMetricFamily("finfactory_outbox_pending", "Events waiting for delivery", labels=["tenant"])
        lag = GaugeMetricFamily(
            "finfactory_outbox_drain_lag_seconds", "Age of the oldest pending event", labels=["tenant"]
        )
        dead = GaugeMetricFamily("finfactory_outbox_dead_letters", "Events parked after N failures", labels=["tenant"])
        for slug, state in for_each_tenant(lambda tenant: outbox_state()).items():
            pending.add_metric([slug], state.pending)
            lag.add_metric([slug], state.oldest_pending_seconds or 0.0)
            dead.add_metric([slug], state.dead)
        yield from (pending, lag, dead)
        try:
            client = _redis()
            for name, help_text in (
                ("delivered", "Events delivered to every subscriber"),
                ("failed", "Delivery attempts that failed"),
                ("dead", "Events dead-lettered"),
            ):
                counter = CounterMetricFamily(f"finfactory_outbox_{name}", help_text)
                counter.add_metric([], float(client.get(METRIC_KEY.format(name=name)) or 0))
                yield counter
        except Exception:  # a scrape without counters beats a failed scrape
            return


def metrics(request) -> HttpResponse:
    token = settings.METRICS_TOKEN
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(supplied.encode(), token.encode()):
        return HttpResponse(status=404)
    registry = CollectorRegistry()
    registry.register(OutboxCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
