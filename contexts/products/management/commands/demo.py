"""Walk the product flow through the unified API over HTTP, as a client product would.

Two customers (Ana and Ben), KYC for both, a PHP wallet each, a cash-in to Ana, a transfer Ana →
Ben, a QR code of Ben's that Ana pays, Ana's statement, and both final balances: one printed line
per call (method, path, status, what came back). It speaks only HTTP (`requests`) and imports no
context, so it shows exactly what a client sees; docs/demo.md is the same flow as curl and Python.

`make run` starts it once in the background (`--once --wait-for-server`): it waits for /readyz,
walks the flow and writes `.local/demo-done`; later starts find the marker (for the same demo
key) and skip it. KYC is decided by the Celery worker, so the worker must be running.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

CURRENCY = "PHP"
CASH_IN = 500_000  # PHP 5,000.00 (amounts are minor units)
TRANSFER = 125_050  # PHP 1,250.50
QR_AMOUNT = 32_075  # PHP 320.75
MERCHANT = {"merchant_name": "Ben Cruz Sari-Sari", "merchant_city": "Quezon City", "mcc": "5411"}
HTTP_TIMEOUT = 30.0
POLL_SECONDS = 0.5


def money(amount: int, currency: str = CURRENCY) -> str:
    """500000 → "PHP 5,000.00" (PHP has two decimals; display only)."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{currency} {sign}{whole:,}.{cents:02d}"


def local_dir() -> Path:
    return Path(settings.BASE_DIR) / ".local"


class Client:
    """The API as a client sees it: bearer key, JSON in and out, problem+json on failure."""

    def __init__(self, base_url: str, key: str, write) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {key}", "Accept": "application/json"})
        self.write = write
        self.step = 0

    def call(self, method: str, path: str, *, body: dict | None = None, params: dict | None = None,
             idempotent: bool = False) -> tuple[int, dict]:  # fmt: skip
        """One request; money-moving POSTs carry a fresh Idempotency-Key (a retry would reuse it)."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if idempotent else {}
        shown = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        try:
            response = self.session.request(
                method, self.base_url + path, json=body, params=params, headers=headers, timeout=HTTP_TIMEOUT
            )
        except requests.RequestException as exc:
            raise CommandError(
                f"{method} {shown}: cannot reach {self.base_url} ({type(exc).__name__}). "
                "Is the server running (`make run`)?"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not 200 <= response.status_code < 300:
            raise CommandError(self._problem(method, shown, response, data))
        return response.status_code, data

    def say(self, method: str, path: str, status: int | str, result: str) -> None:
        self.step += 1
        self.write(f"{self.step:>3}. {method:<4} {path}  →  {status}  {result}")

    @staticmethod
    def _problem(method: str, path: str, response: requests.Response, problem: dict) -> str:
        lines = [f"{method} {path} → {response.status_code} {problem.get('code') or response.reason}"]
        if problem.get("detail"):
            lines.append(f"  detail: {problem['detail']}")
        for error in problem.get("errors") or []:
            lines.append(f"  error: {error.get('field')}: {error.get('message')}")
        if not problem and "html" not in response.headers.get("Content-Type", ""):
            lines.append(f"  body: {response.text[:300]}")
        if response.status_code == 401:
            lines.append("  hint: not a key of this server; pass --key, or run `python manage.py ensure_demo_tenant`")
        request_id = problem.get("request_id") or response.headers.get("X-Request-Id")
        if request_id:
            lines.append(f"  request_id: {request_id}")
        return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Walk the product flow through the HTTP API with the demo tenant's key: two customers, KYC, "
        "wallets, cash-in, transfer, QR code and QR payment, statement, final balances. Needs the "
        "server and the Celery worker running (`make run`)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="The API's origin.")
        parser.add_argument(
            "--key",
            help="A sandbox API key (ff_test_…). Default: the demo tenant's, from .local/demo-tenant.json "
            "(provisioned with ensure_demo_tenant if missing).",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="Skip if the demo already completed for this key (.local/demo-done); write it on success.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=60.0,
            help="Seconds to wait for asynchronous outcomes: KYC decisions, pending payments (default 60).",
        )
        parser.add_argument(
            "--wait-for-server",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="First wait up to SECONDS for /readyz to answer 200 (make run starts the demo with the server).",
        )

    def say(self, text: str) -> None:
        """One line, flushed: under `make run` it shares the terminal (or a pipe) with honcho."""
        self.stdout.write(text)
        self.stdout.flush()

    def handle(self, *args, base_url: str, key: str | None, once: bool, timeout: float, wait_for_server: float,
               **options):  # fmt: skip
        key = key or self._demo_key()
        marker = local_dir() / "demo-done"
        fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16]
        if once and self._done(marker, fingerprint):
            self.say(
                f"Demo already completed ({marker.relative_to(settings.BASE_DIR)}); "
                "`python manage.py demo` walks it again."
            )
            return
        if wait_for_server:
            self._wait_ready(base_url, wait_for_server)
        self.say(f"FinFactory demo: the product flow through {base_url.rstrip('/')}/v1/ (key {key[:12]}…)")
        balances = self._walk(Client(base_url, key, self.say), timeout)
        self.say("Final balances:")
        for name, wallet_id, balance in balances:
            self.say(f"  {name:<10} {wallet_id}  {money(balance['available'], balance['currency'])}")
        self.say(self.style.SUCCESS("Demo completed."))
        if once:
            marker.parent.mkdir(parents=True, exist_ok=True)
            completed = {"completed_at": datetime.now(UTC).isoformat(), "key": fingerprint, "base_url": base_url}
            marker.write_text(json.dumps(completed) + "\n")

    # --- the flow ---------------------------------------------------------------------------------

    def _walk(self, api: Client, timeout: float) -> list[tuple[str, str, dict]]:
        ana = self._customer(api, "Ana", "Reyes")
        ben = self._customer(api, "Ben", "Cruz")
        submitted = {}
        for customer in (ana, ben):
            path = f"/v1/customers/{customer['id']}/kyc"
            # A fresh document number each run (a number belongs to one customer); the sandbox
            # verifies any number not ending in 0000.
            document = {"id_type": "national_id", "id_number": f"{secrets.randbelow(10**11):011d}7"}
            status, kyc = api.call("POST", path, body=document)
            submitted[customer["id"]] = time.monotonic()
            api.say("POST", path, status, f"{customer['first_name']}: kyc {kyc['kyc_status']}")
        self._await_verified(api, [ana, ben], submitted, timeout)

        ana_wallet = self._wallet(api, ana)
        ben_wallet = self._wallet(api, ben)

        status, cash_in = api.call(
            "POST", "/v1/cash-ins", body={"wallet_id": ana_wallet, "amount": CASH_IN, "currency": CURRENCY},
            idempotent=True,
        )  # fmt: skip
        api.say("POST", "/v1/cash-ins", status, f"{cash_in['id']} {money(CASH_IN)} to Ana: {cash_in['status']}")

        status, transfer = api.call(
            "POST", "/v1/transfers",
            body={"source_wallet_id": ana_wallet, "destination_wallet_id": ben_wallet, "amount": TRANSFER,
                  "currency": CURRENCY, "description": "Dinner, thanks!"},
            idempotent=True,
        )  # fmt: skip
        api.say("POST", "/v1/transfers", status, f"{transfer['id']} {money(TRANSFER)} Ana → Ben: {transfer['status']}")

        status, qr = api.call("POST", "/v1/qr-codes", body={"wallet_id": ben_wallet, "amount": QR_AMOUNT, **MERCHANT})
        api.say(
            "POST", "/v1/qr-codes", status,
            f"{qr['id']} {qr['type']} {money(QR_AMOUNT)} for {MERCHANT['merchant_name']}: {qr['payload'][:24]}…",
        )  # fmt: skip

        status, payment = api.call(
            "POST", "/v1/qr-payments", body={"wallet_id": ana_wallet, "payload": qr["payload"]}, idempotent=True
        )
        api.say(
            "POST", "/v1/qr-payments", status,
            f"{payment['id']} {money(payment['amount'])} Ana → {MERCHANT['merchant_name']}: {payment['status']}"
            f" ({payment.get('route')})",
        )  # fmt: skip
        if payment["status"] == "pending":
            payment = self._await_payment(api, payment["id"], timeout)
        if payment["status"] != "confirmed":
            raise CommandError(f"QR payment {payment['id']} {payment['status']}: {payment.get('failure_code')}")

        self._statement(api, ana_wallet)
        return [("Ana Reyes", ana_wallet, self._balance(api, ana_wallet, "Ana")),
                ("Ben Cruz", ben_wallet, self._balance(api, ben_wallet, "Ben"))]  # fmt: skip

    @staticmethod
    def _customer(api: Client, first: str, last: str) -> dict:
        body = {"first_name": first, "last_name": last, "email": f"{first.lower()}.{last.lower()}@example.com"}
        status, customer = api.call("POST", "/v1/customers", body=body)
        api.say("POST", "/v1/customers", status, f"{customer['id']} {first} {last} (kyc {customer['kyc_status']})")
        return customer

    @staticmethod
    def _await_verified(api: Client, customers: list[dict], submitted: dict[str, float], timeout: float) -> None:
        """Poll each customer's KYC until the provider's decision arrives (the worker applies it)."""
        waiting = list(customers)
        deadline = time.monotonic() + timeout
        while waiting:
            for customer in list(waiting):
                path = f"/v1/customers/{customer['id']}/kyc"
                status, kyc = api.call("GET", path)
                if kyc["kyc_status"] == "pending":
                    continue
                if kyc["kyc_status"] != "verified":
                    raise CommandError(f"KYC of {customer['first_name']} ({customer['id']}) is {kyc['kyc_status']}.")
                waited = time.monotonic() - submitted[customer["id"]]
                api.say("GET", path, status, f"{customer['first_name']}: kyc verified, level {kyc['kyc_level']} "
                        f"({waited:.1f} s after submission)")  # fmt: skip
                waiting.remove(customer)
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{c['first_name']} ({c['id']})" for c in waiting)
                raise CommandError(
                    f"KYC of {names} still pending after {timeout:.0f} s. The Celery worker applies the "
                    "provider's decision, so it must be running: `make run` starts one, or run "
                    "`celery -A config worker` next to the server."
                )
            if waiting:
                time.sleep(POLL_SECONDS)

    @staticmethod
    def _wallet(api: Client, customer: dict) -> str:
        status, wallet = api.call("POST", "/v1/wallets", body={"customer_id": customer["id"], "currency": CURRENCY})
        api.say("POST", "/v1/wallets", status, f"{wallet['id']} {customer['first_name']}'s {wallet['currency']} "
                f"wallet, {wallet['status']}, tier {wallet['tier']}")  # fmt: skip
        return wallet["id"]

    @staticmethod
    def _await_payment(api: Client, payment_id: str, timeout: float) -> dict:
        path = f"/v1/qr-payments/{payment_id}"
        deadline = time.monotonic() + timeout
        while True:
            status, payment = api.call("GET", path)
            if payment["status"] != "pending" or time.monotonic() > deadline:
                api.say("GET", path, status, f"{payment_id}: {payment['status']}")
                return payment
            time.sleep(POLL_SECONDS)

    @staticmethod
    def _statement(api: Client, wallet_id: str) -> None:
        # Statement days are the tenant's calendar days in its time zone, which a client does not
        # need to know: yesterday to tomorrow (UTC) holds "today" in every zone.
        today = datetime.now(UTC).date()
        params = {"from": (today - timedelta(days=1)).isoformat(), "to": (today + timedelta(days=1)).isoformat(),
                  "format": "json"}  # fmt: skip
        path = f"/v1/wallets/{wallet_id}/statement"
        status, statement = api.call("GET", path, params=params)
        lines = statement["lines"]
        credits = sum(line["amount"] for line in lines if line["direction"] == "credit")
        debits = sum(line["amount"] for line in lines if line["direction"] == "debit")
        opening, closing = statement["opening_balance"], statement["closing_balance"]
        currency = statement["currency"]
        api.say(
            "GET", f"{path}?from={params['from']}&to={params['to']}&format=json", status,
            f"Ana: opening {money(opening, currency)} + credits {money(credits, currency)} - debits "
            f"{money(debits, currency)} = closing {money(closing, currency)} ({len(lines)} lines)",
        )  # fmt: skip
        if opening + credits - debits != closing:
            raise CommandError(f"The statement of {wallet_id} does not add up: {statement}")

    @staticmethod
    def _balance(api: Client, wallet_id: str, name: str) -> dict:
        path = f"/v1/wallets/{wallet_id}/balance"
        status, balance = api.call("GET", path)
        held = f", held {money(balance['held'], balance['currency'])}" if balance["held"] else ""
        api.say("GET", path, status, f"{name}: available {money(balance['available'], balance['currency'])}{held}")
        return balance

    # --- setting up -------------------------------------------------------------------------------

    def _demo_key(self) -> str:
        path = local_dir() / "demo-tenant.json"
        if not path.is_file():
            call_command("ensure_demo_tenant", file=str(path), stdout=self.stdout)
        try:
            return json.loads(path.read_text())["api_key"]
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"No demo key in {path}: run `python manage.py ensure_demo_tenant`.") from exc

    @staticmethod
    def _done(marker: Path, fingerprint: str) -> bool:
        try:
            return json.loads(marker.read_text()).get("key") == fingerprint
        except (OSError, ValueError, AttributeError):
            return False

    @staticmethod
    def _wait_ready(base_url: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if requests.get(base_url.rstrip("/") + "/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise CommandError(f"{base_url} did not answer /readyz with 200 within {seconds:.0f} s.")
            time.sleep(POLL_SECONDS)
