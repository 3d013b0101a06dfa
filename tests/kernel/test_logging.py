import io
import json
import logging

import pytest
import structlog

pytestmark = pytest.mark.usefixtures("db_access")


@pytest.fixture
def json_log_lines():
    """What the production handler writes, captured: one JSON object per line."""
    formatter = next(
        handler.formatter
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter)
    )
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(formatter)
    request_logger = logging.getLogger("finfactory.request")
    request_logger.addHandler(handler)
    previous_level = request_logger.level
    request_logger.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        request_logger.removeHandler(handler)
        request_logger.setLevel(previous_level)


def test_each_request_logs_one_json_line_with_request_id_tenant_and_path(client, json_log_lines):
    response = client.get("/no-such-page", HTTP_X_REQUEST_ID="req_logtest1", HTTP_HOST="unknown.example")

    lines = [line for line in json_log_lines() if line["event"] == "request.finished"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req_logtest1" == response["X-Request-Id"]
    assert line["path"] == "/no-such-page"
    assert line["method"] == "GET"
    assert line["status"] == 404
    assert line["tenant"] == "public"
    assert line["level"] == "info"
    assert isinstance(line["duration_ms"], float)
    assert line["timestamp"].endswith("Z")


def test_request_context_does_not_leak_into_the_next_request(client, json_log_lines):
    client.get("/healthz", HTTP_X_REQUEST_ID="req_first")
    client.get("/healthz", HTTP_X_REQUEST_ID="req_second")

    lines = [line for line in json_log_lines() if line["event"] == "request.finished"]
    assert [line["request_id"] for line in lines] == ["req_first", "req_second"]
    assert structlog.contextvars.get_contextvars() == {}
