import time

import pytest
import redis
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from finfactory.tenancy.context import in_tenant
from finfactory.tenantconfig import config_get, config_set, config_unset, flag_enabled
from finfactory.tenantconfig.caching import version_key
from finfactory.tenantconfig.models import ConfigValue

from .conftest import CASH_OUT, MAX_TRANSFERS


@pytest.fixture
def short_ttl(settings):
    settings.TENANTCONFIG_CACHE_SECONDS = 0.2
    return 0.25


def _committed_set(capture, **kwargs):
    """config_set as if its transaction committed: the after-commit invalidation runs."""
    with capture(execute=True):
        return config_set(**kwargs)


def _written_elsewhere(key: str, value) -> None:
    """A value committed by another process: the row changes, this process is not told."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenantconfig_configvalue SET value = %s::jsonb WHERE key = %s", [str(value), key])


def _bump_elsewhere(schema: str) -> None:
    """What another process's config_set does after its commit."""
    redis.Redis.from_url(settings.TENANTCONFIG_REDIS_URL).incr(version_key(schema))


def test_a_cached_read_runs_no_query(keys, in_acme):
    assert config_get(MAX_TRANSFERS) == 10

    with CaptureQueriesContext(connection) as queries:
        values = [config_get(MAX_TRANSFERS) for _ in range(100)]

    assert values == [10] * 100
    assert len(queries) == 0


def test_a_change_is_seen_at_once_by_the_process_that_made_it(keys, in_acme, django_capture_on_commit_callbacks):
    assert flag_enabled(CASH_OUT) is True  # cached

    _committed_set(django_capture_on_commit_callbacks, key=CASH_OUT, value=False, reason="pause")
    assert flag_enabled(CASH_OUT) is False

    with django_capture_on_commit_callbacks(execute=True):
        config_unset(key=CASH_OUT, reason="resume")
    assert flag_enabled(CASH_OUT) is True


def test_a_global_change_is_seen_at_once_by_every_schema_of_the_process(
    keys, make_tenant, django_capture_on_commit_callbacks
):
    acme, globex = make_tenant("acme").tenant, make_tenant("globex").tenant
    for tenant in (acme, globex):
        with in_tenant(tenant):
            assert config_get(MAX_TRANSFERS) == 10  # both cached

    _committed_set(django_capture_on_commit_callbacks, key=MAX_TRANSFERS, value=3, reason="r", scope="global")

    for tenant in (acme, globex):
        with in_tenant(tenant):
            assert config_get(MAX_TRANSFERS) == 3


def test_inside_its_transaction_a_writer_reads_its_own_change_and_a_rollback_leaves_no_trace(keys, in_acme):
    assert config_get(MAX_TRANSFERS) == 10  # cached before the change

    with pytest.raises(RuntimeError), transaction.atomic():
        config_set(key=MAX_TRANSFERS, value=42, reason="r")
        assert config_get(MAX_TRANSFERS) == 42
        raise RuntimeError("the unit of work fails later")

    assert config_get(MAX_TRANSFERS) == 10
    assert ConfigValue.objects.count() == 0


def test_a_change_by_another_process_is_seen_after_the_ttl_once_its_version_moves(
    keys, in_acme, short_ttl, django_capture_on_commit_callbacks
):
    _committed_set(django_capture_on_commit_callbacks, key=MAX_TRANSFERS, value=20, reason="r")
    assert config_get(MAX_TRANSFERS) == 20  # cached

    _written_elsewhere(MAX_TRANSFERS, 30)
    _bump_elsewhere(in_acme.schema_name)
    within_ttl = config_get(MAX_TRANSFERS)
    time.sleep(short_ttl)
    after_ttl = config_get(MAX_TRANSFERS)

    assert (within_ttl, after_ttl) == (20, 30)


def test_a_global_change_by_another_process_reaches_tenants_through_the_global_version(
    keys, in_acme, short_ttl, django_capture_on_commit_callbacks
):
    _committed_set(django_capture_on_commit_callbacks, key=MAX_TRANSFERS, value=20, reason="r", scope="global")
    assert config_get(MAX_TRANSFERS) == 20

    with connection.cursor() as cursor:
        cursor.execute("UPDATE public.tenantconfig_configvalue SET value = '40'::jsonb WHERE key = %s", [MAX_TRANSFERS])
    _bump_elsewhere("public")
    time.sleep(short_ttl)

    assert config_get(MAX_TRANSFERS) == 40


def test_without_a_version_bump_the_cache_is_trusted_until_its_maximum_age(
    keys, in_acme, short_ttl, settings, django_capture_on_commit_callbacks
):
    settings.TENANTCONFIG_CACHE_MAX_AGE_SECONDS = 0.6
    _committed_set(django_capture_on_commit_callbacks, key=MAX_TRANSFERS, value=20, reason="r")
    assert config_get(MAX_TRANSFERS) == 20  # loaded now, reloaded 0.6 s from now whatever happens

    _written_elsewhere(MAX_TRANSFERS, 30)  # and its version bump was lost
    time.sleep(short_ttl)
    trusted = config_get(MAX_TRANSFERS)  # the TTL passed, the version did not move
    time.sleep(0.4)

    assert (trusted, config_get(MAX_TRANSFERS)) == (20, 30)


def test_with_redis_down_reads_come_from_the_database_and_the_outage_is_logged_once(
    keys, in_acme, short_ttl, settings, closed_port, django_capture_on_commit_callbacks
):
    settings.TENANTCONFIG_REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"

    with structlog.testing.capture_logs() as logs:
        before = config_get(MAX_TRANSFERS)
        entry = _committed_set(django_capture_on_commit_callbacks, key=MAX_TRANSFERS, value=25, reason="r")
        at_once = config_get(MAX_TRANSFERS)
        _written_elsewhere(MAX_TRANSFERS, 35)
        time.sleep(short_ttl)
        after_ttl = [config_get(MAX_TRANSFERS) for _ in range(3)]

    assert (before, entry.version, at_once, after_ttl) == (10, 1, 25, [35, 35, 35])
    events = [log["event"] for log in logs if log["log_level"] == "warning"]
    assert events == ["tenantconfig.redis_unavailable", "tenantconfig.version_not_bumped"]


def test_a_cached_read_takes_less_than_50_microseconds(keys, in_acme):
    config_get(MAX_TRANSFERS)
    calls = 100_000

    started = time.perf_counter()
    for _ in range(calls):
        config_get(MAX_TRANSFERS)
    per_call = (time.perf_counter() - started) / calls

    assert per_call < 50e-6, f"{per_call * 1e6:.1f} µs per config_get"
