"""Audit trail: append-only, hash-chained records of every material action."""
