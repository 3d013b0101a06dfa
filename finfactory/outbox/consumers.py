from finfactory.events.subscribers import Event, subscribe


@subscribe("outbox.probe", name="outbox.probe_sink")
def probe_sink(event: Event) -> None:
    """Does nothing beyond the inbox row the drain writes: what is measured is delivery itself."""
