"""Bounded contexts: one Django app per financial primitive or foundation service.

A context's public face is `api.py` (functions and frozen DTOs) and `events.py` (the events it
publishes); everything else is private to it. importlinter.ini enforces the rule.
"""
