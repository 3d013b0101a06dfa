"""API keys: tenant keys (`ff_test_…`, `ff_live_…`) and platform operator keys, stored hashed."""
