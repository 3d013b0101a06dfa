"""The Redis circuit breaker: after a failure the guarded calls answer their fallback without
trying Redis for the pause, log the outage once, and try again afterwards."""

import redis
import structlog

from finfactory.redisguard import RedisBreaker


def test_after_a_failure_redis_is_not_tried_again_until_the_pause_ends(closed_port, settings):
    client = redis.Redis(port=closed_port, socket_connect_timeout=0.5)
    tries = []

    def ping():
        tries.append(1)
        return client.ping()

    breaker = RedisBreaker("test", seconds=30)
    with structlog.testing.capture_logs() as logs:
        first = breaker.call(ping, fallback="fallback")
        then = [breaker.call(ping, fallback="fallback") for _ in range(50)]

    assert (first, set(then), len(tries)) == ("fallback", {"fallback"}, 1)
    assert [entry["event"] for entry in logs] == ["redis.unavailable"]

    breaker.open_until = 0.0  # the pause is over, and Redis is back
    working = RedisBreaker("test")
    assert breaker.call(lambda: redis.Redis.from_url(settings.REDIS_URL).ping(), fallback=False) is True
    assert working.call(lambda: 42, fallback=0) == 42
    assert breaker.warned is False
