"""Idempotency-Key handling: a replay returns the first response and never repeats the effect."""
