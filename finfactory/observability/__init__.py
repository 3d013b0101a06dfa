"""Structured logs, request ids, health and readiness, worker heartbeat."""
