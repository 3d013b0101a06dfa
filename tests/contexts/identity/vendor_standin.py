"""A stand-in for the KYC vendor's HTTP API, served on 127.0.0.1 from a thread.

It speaks the protocol contexts.identity.adapters.http_vendor documents: bearer key, idempotent
`POST /v1/checks`, `GET /v1/checks/{id}`, and signed callbacks it POSTs to the callback URL it
was given. Tests steer it: decide a check, make the next answers fail, slow it down.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from contexts.identity.adapters.http_vendor import SIGNATURE_HEADER, sign

API_KEY = "vendor-test-key-0123456789"
WEBHOOK_SECRET = "vendor-webhook-secret-0123456789"


class VendorStandIn:
    def __init__(self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.checks: dict[str, dict] = {}
        self.callback_urls: dict[str, str | None] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.requests: list[dict] = []
        self.next_answers: list[tuple[int, bytes, dict]] = []  # (status, body, headers) served before anything
        self.delay = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> VendorStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- steering -----------------------------------------------------------------------------

    def decide(self, check_id: str, status: str, **fields) -> dict:
        with self._lock:
            self.checks[check_id] = {**self.checks[check_id], "status": status, **fields}
            return dict(self.checks[check_id])

    def check_for(self, reference: str) -> dict:
        return next(check for check in self.checks.values() if check["reference"] == reference)

    def signed(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = sign(secret or self.webhook_secret, timestamp, body)
        return {SIGNATURE_HEADER: f"t={timestamp},v1={signature}"}

    def callback(self, check_id: str) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the signed callback the vendor sends for the check."""
        body = json.dumps(self.checks[check_id]).encode()
        return body, self.signed(body)

    def deliver_callback(self, check_id: str, *, connect_to: str) -> tuple[int, dict]:
        """POST the signed callback to the check's callback URL, connecting to `connect_to`
        (host:port) while sending the URL's own host name, as DNS would have resolved it."""
        target = urlsplit(self.callback_urls[check_id])
        body, headers = self.callback(check_id)
        request = urllib.request.Request(
            f"http://{connect_to}{target.path}",
            data=body,
            headers={**headers, "Content-Type": "application/json", "Host": target.netloc},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - test loopback
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    # --- the HTTP side ------------------------------------------------------------------------

    def _handler(self):
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict | bytes, headers: dict | None = None) -> None:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for key, value in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _record(self, body: dict | None) -> bool:
                with vendor._lock:
                    vendor.requests.append(
                        {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    canned = vendor.next_answers.pop(0) if vendor.next_answers else None
                if vendor.delay:
                    time.sleep(vendor.delay)
                if canned is not None:
                    self._answer(*canned)
                    return False
                if self.headers.get("Authorization") != f"Bearer {vendor.api_key}":
                    self._answer(401, {"error": "unauthorized"})
                    return False
                return True

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw) if raw else None
                if not self._record(body) or self.path != "/v1/checks":
                    return
                key = self.headers.get("Idempotency-Key")
                with vendor._lock:
                    if key in vendor.by_idempotency_key:
                        check_id = vendor.by_idempotency_key[key]
                        self._answer(200, vendor.checks[check_id])
                        return
                    check_id = f"chk_{next(vendor._ids)}"
                    vendor.by_idempotency_key[key] = check_id
                    vendor.checks[check_id] = {"id": check_id, "reference": body["reference"], "status": "pending"}
                    vendor.callback_urls[check_id] = body.get("callback_url")
                self._answer(201, vendor.checks[check_id])

            def do_GET(self) -> None:
                if not self._record(None):
                    return
                check_id = self.path.rsplit("/", 1)[-1]
                with vendor._lock:
                    check = vendor.checks.get(check_id)
                if check is None:
                    self._answer(404, {"error": "not_found"})
                else:
                    self._answer(200, check)

        return Handler
