"""Transactional outbox: events are rows written in the transaction of the change that causes
them, then drained by Celery to every subscriber (at least once, in order per aggregate, with an
inbox that makes each handler's effect happen once)."""
