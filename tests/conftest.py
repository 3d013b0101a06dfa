"""Shared fixtures. Tests run against real PostgreSQL and Redis (see README, `make test`)."""

import socket

import pytest


@pytest.fixture
def db_access(django_db_blocker):
    """Database access outside a test transaction, for tests that break the connection on purpose."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
