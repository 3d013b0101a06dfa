"""Request id and access log: first in the middleware chain so that every response has one."""

import time

import structlog

from finfactory.request_context import (
    REQUEST_ID_HEADER,
    is_valid_request_id,
    new_request_id,
    reset_current_request_id,
    set_current_actor,
    set_current_request_id,
)

logger = structlog.get_logger("finfactory.request")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        inbound = request.headers.get(REQUEST_ID_HEADER)
        request_id = inbound if is_valid_request_id(inbound) else new_request_id()
        request.request_id = request_id
        token = set_current_request_id(request_id)
        actor_token = set_current_actor(None)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, method=request.method, path=request.path)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            log = logger.warning if response.status_code >= 500 else logger.info
            log("request.finished", status=response.status_code, duration_ms=duration_ms)
            return response
        finally:
            structlog.contextvars.clear_contextvars()
            reset_current_request_id(token)
            actor_token.var.reset(actor_token)
