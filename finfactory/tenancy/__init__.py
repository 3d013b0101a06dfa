"""Tenants (one PostgreSQL schema each) and the host names that route to them."""
