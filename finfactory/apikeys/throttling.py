"""Rate limits per API key and scope: a sliding-window log in Redis, atomic in one Lua call.

Limits come from the tenant (`Tenant.rate_limits`, e.g. {"money:move": "50/s"}), else from
settings.API_RATE_LIMITS by scope, else its "default". If Redis is unreachable requests are let
through (logged): money must keep moving when the cache is down.
"""

import time
import uuid

import structlog
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.throttling import BaseThrottle

from finfactory.apikeys.permissions import required_scope
from finfactory.apikeys.services import Principal
from finfactory.redisguard import RedisBreaker

logger = structlog.get_logger(__name__)

_SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""
_UNITS_MS = {"s": 1000, "sec": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "hour": 3_600_000}
_script = None
_breaker = RedisBreaker("rate limits")


def parse_rate(rate: str) -> tuple[int, int]:
    """ "100/s" → (100, 1000 ms); "6000/min" → (6000, 60000 ms)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS_MS[unit]


def limit_for(principal: Principal, scope: str) -> tuple[int, int]:
    configured = settings.API_RATE_LIMITS
    rate = principal.rate_limits.get(scope) or configured.get(scope) or configured["default"]
    return parse_rate(rate)


def hit(key: str, *, limit: int, window_ms: int) -> float | None:
    """Count one request; None if allowed, else seconds until the window has room."""
    global _script
    client = get_redis_connection("default")
    if _script is None:
        _script = client.register_script(_SLIDING_WINDOW)
    now_ms = int(time.time() * 1000)
    allowed, wait_ms = _script(keys=[key], args=[now_ms, window_ms, limit, f"{now_ms}:{uuid.uuid4().hex[:8]}"])
    return None if allowed else max(0.001, int(wait_ms) / 1000)


class ApiKeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        principal = request.auth
        if not isinstance(principal, Principal):
            return True
        scope = required_scope(view, request.method) or "default"
        limit, window_ms = limit_for(principal, scope)
        key = f"ff:rl:{principal.public_id}:{scope}"
        # Redis unreachable: let the request through (money must keep moving), and for the
        # breaker's pause do not even try, so that every request does not wait for a timeout.
        self._wait = _breaker.call(lambda: hit(key, limit=limit, window_ms=window_ms), fallback=None)
        return self._wait is None

    def wait(self):
        return self._wait
