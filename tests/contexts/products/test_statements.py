"""Wallet statements (contexts.products.statements and its REST view): the ledger's figures over
the tenant's calendar days, as JSON, CSV and PDF that agree with each other."""

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import include, path

from contexts.ledger.api import StatementLine
from contexts.products import api, statements
from contexts.products.adapters.base import SUCCEEDED, PayoutResult
from contexts.products.configuration import product_config_override
from contexts.products.payouts import payout_result_record
from contexts.products.rest.statements import WalletStatementView
from contexts.products.statements import (
    WalletStatement,
    pdf_page_count,
    render_csv,
    render_json,
    render_pdf,
    wallet_statement,
)
from finfactory.apikeys.services import api_key_create
from finfactory.errors import InvalidInput, NotFound
from finfactory.tenancy.models import Tenant
from tests.helpers import api_client, error_fields, problem

from .conftest import ref, run

MANILA = ZoneInfo("Asia/Manila")  # the stored_value_wallet template's zone (UTC+8, no DST)


def manila(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=MANILA)


def backdate(entry_id: str, posted_at: datetime) -> None:
    """Move an entry's postings to another time. Postings are immutable (a trigger refuses any
    UPDATE): replication mode skips it, for this statement of the test's transaction only. The
    times given keep each account's posted_at non-decreasing along its sequence, as the ledger's
    clock does."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE ledger_posting SET posted_at = %s"
            " WHERE entry_id = (SELECT id FROM ledger_journalentry WHERE public_id = %s)",
            [posted_at, entry_id],
        )
        assert cursor.rowcount >= 2
        cursor.execute("SET LOCAL session_replication_role = origin")


@pytest.fixture
def history(wallet, product):
    """A wallet's two days in Manila, 1 and 2 March 2025:

    1st  09:00 cash-in 100,000                         → 100,000
         23:30 cash-in 50,000 (15:30 UTC, still the 1st) → 150,000
    2nd  00:30 transfer out 40,000 + fee 1,200 in one entry (16:30 UTC on the 1st) → 110,000, 108,800
         10:00 cash-out 30,000 captured, 10:01 its fee 1,500 → 78,800, 77,300
         12:00 transfer in 25,000 from another wallet  → 102,300
    """
    product_config_override(overrides={"fees": {"transfer": {"PHP": {"flat": 1_000, "percent_bps": 50}}}},
                            reason="statement test")  # fmt: skip
    holder, friend = wallet(), wallet(200_000)
    cash_in_1 = api.cash_in(wallet_id=holder.id, amount=100_000, currency="PHP", reference=ref())
    cash_in_2 = api.cash_in(wallet_id=holder.id, amount=50_000, currency="PHP", reference=ref())
    sent = api.transfer(source_wallet_id=holder.id, destination_wallet_id=friend.id, amount=40_000, currency="PHP",
                        reference=ref(), description="Rent share")  # fmt: skip
    pending = api.cash_out(wallet_id=holder.id, amount=30_000, currency="PHP", reference=ref(),
                           destination={"bank": "BPI", "account": "1234567890"})  # fmt: skip
    payout_result_record(result=PayoutResult(pending.payout_id, SUCCEEDED, "sandbox:x"))
    done = run(pending.id)  # the operation row: its capture and fee entries
    cashed_out = SimpleNamespace(id=done.public_id, status=done.status, entry_id=done.entry_id,
                                 fee_entry_id=done.fee_entry_id)  # fmt: skip
    received = api.transfer(source_wallet_id=friend.id, destination_wallet_id=holder.id, amount=25_000,
                            currency="PHP", reference=ref())  # fmt: skip
    assert (sent.fee, pending.fee, cashed_out.status) == (1_200, 1_500, "succeeded")
    backdate(cash_in_1.transaction_id, manila(1, 9))
    backdate(cash_in_2.transaction_id, manila(1, 23, 30))
    backdate(sent.transaction_id, manila(2, 0, 30))
    backdate(cashed_out.entry_id, manila(2, 10))
    backdate(cashed_out.fee_entry_id, manila(2, 10, 1))
    backdate(received.transaction_id, manila(2, 12))
    return SimpleNamespace(
        wallet=holder, cash_in_1=cash_in_1, cash_in_2=cash_in_2, sent=sent, cash_out=cashed_out, received=received
    )


def read(statement: WalletStatement) -> list[dict]:
    return list(statement.lines())


def summary(lines: list[dict]) -> list[tuple]:
    return [(line["type"], line["direction"], line["amount"], line["balance_after"], line["reference_id"])
            for line in lines]  # fmt: skip


def test_a_period_opens_at_the_balance_before_it_and_adds_up(history):
    day_two = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 2), date_to=date(2025, 3, 2))
    lines = read(day_two)

    assert (day_two.wallet_id, day_two.currency, day_two.time_zone) == (history.wallet.id, "PHP", "Asia/Manila")
    assert (day_two.opening_balance, day_two.total_credits, day_two.total_debits, day_two.closing_balance) == (
        150_000, 25_000, 72_700, 102_300,
    )  # fmt: skip
    assert day_two.opening_balance + day_two.total_credits - day_two.total_debits == day_two.closing_balance
    assert day_two.line_count == len(lines) == 5
    assert summary(lines) == [
        ("transfer_out", "debit", 40_000, 110_000, history.sent.id),
        ("fee", "debit", 1_200, 108_800, history.sent.id),
        ("cash_out", "debit", 30_000, 78_800, history.cash_out.id),
        ("fee", "debit", 1_500, 77_300, history.cash_out.id),
        ("transfer_in", "credit", 25_000, 102_300, history.received.id),
    ]
    assert [line["transaction_id"] for line in lines] == [
        history.sent.transaction_id, history.sent.transaction_id, history.cash_out.entry_id,
        history.cash_out.fee_entry_id, history.received.transaction_id,
    ]  # fmt: skip
    assert lines[0]["description"] == "Rent share" and lines[1]["description"] == "Fee: Rent share"
    assert lines[-1]["posted_at"] == manila(2, 12)

    both = wallet_statement(wallet_id=history.wallet.id, date_from="2025-03-01", date_to="2025-03-02")
    every = read(both)
    assert (both.opening_balance, both.total_credits, both.total_debits, both.closing_balance) == (
        0, 175_000, 72_700, 102_300,
    )  # fmt: skip
    assert summary(every)[:2] == [
        ("cash_in", "credit", 100_000, 100_000, history.cash_in_1.id),
        ("cash_in", "credit", 50_000, 150_000, history.cash_in_2.id),
    ]
    assert summary(every)[2:] == summary(lines)


def test_a_statement_day_is_a_calendar_day_in_the_tenants_time_zone(history):
    # 23:30 in Manila on the 1st belongs to the 1st; 00:30 on the 2nd (16:30 UTC on the 1st) does not.
    first = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 1))

    assert [line["posted_at"] for line in read(first)] == [manila(1, 9), manila(1, 23, 30)]
    assert (first.opening_balance, first.closing_balance, first.total_credits, first.total_debits) == (
        0, 150_000, 150_000, 0,
    )  # fmt: skip
    empty = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 3), date_to=date(2025, 3, 31))
    assert (empty.line_count, empty.opening_balance, empty.closing_balance, empty.total_credits) == (
        0, 102_300, 102_300, 0,
    )  # fmt: skip
    assert read(empty) == []


def test_the_lines_are_read_once_and_the_totals_known_at_their_end(history):
    statement = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 2))

    with pytest.raises(RuntimeError):
        statement.total_credits  # noqa: B018 - the property refuses before the lines were read
    lines = statement.lines()
    next(lines)
    with pytest.raises(RuntimeError):
        statement.lines()
    list(lines)
    assert statement.total_credits == 175_000


def test_the_json_document_carries_every_figure(history, monkeypatch):
    monkeypatch.setattr(statements, "CHUNK_LINES", 2)  # lines in several chunks, the last one full
    statement = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 1), date_to=date(2025, 3, 2))
    chunks = list(render_json(statement))

    document = json.loads(b"".join(chunks))
    assert len(chunks) > 3
    assert list(document) == [
        "object", "wallet_id", "currency", "from", "to", "time_zone", "opening_balance", "closing_balance",
        "line_count", "lines", "total_credits", "total_debits",
    ]  # fmt: skip
    assert (document["from"], document["to"], document["opening_balance"], document["closing_balance"]) == (
        "2025-03-01", "2025-03-02", 0, 102_300,
    )  # fmt: skip
    assert (document["total_credits"], document["total_debits"], document["line_count"]) == (175_000, 72_700, 7)
    assert document["lines"][1] == {
        "transaction_id": history.cash_in_2.transaction_id,
        "type": "cash_in",
        "direction": "credit",
        "amount": 50_000,
        "balance_after": 150_000,
        "description": f"Cash-in {history.cash_in_2.id}",
        "reference_id": history.cash_in_2.id,
        "posted_at": "2025-03-01T15:30:00Z",
    }


def test_the_csv_has_the_json_figures(history):
    kwargs = {"wallet_id": history.wallet.id, "date_from": date(2025, 3, 1), "date_to": date(2025, 3, 2)}
    document = json.loads(b"".join(render_json(wallet_statement(**kwargs))))
    rows = list(csv.reader(io.StringIO(b"".join(render_csv(wallet_statement(**kwargs))).decode())))

    header, body = rows[0], rows[1 : 1 + document["line_count"]]
    assert header == list(statements.CSV_COLUMNS)
    records = [dict(zip(header, row, strict=True)) for row in body]
    assert [
        (r["transaction_id"], r["type"], r["direction"], int(r["amount"]), int(r["balance_after"]),
         r["reference_id"] or None, r["posted_at"])
        for r in records
    ] == [
        (line["transaction_id"], line["type"], line["direction"], line["amount"], line["balance_after"],
         line["reference_id"], line["posted_at"])
        for line in document["lines"]
    ]  # fmt: skip
    assert (records[1]["date"], records[2]["date"]) == ("2025-03-01", "2025-03-02")  # 15:30 and 16:30 UTC
    assert (records[0]["amount_major"], records[-1]["balance_after_major"]) == ("1000.00", "1023.00")
    assert rows[1 + document["line_count"]] == []
    totals = {row[0]: row[1:] for row in rows[2 + document["line_count"] :]}
    assert totals["summary"] == ["value", "value_major"]
    for name in ("opening_balance", "total_credits", "total_debits", "closing_balance", "line_count"):
        assert int(totals[name][0]) == document[name], name
    assert totals["closing_balance"] == ["102300", "1023.00"]
    assert (totals["wallet_id"][0], totals["from"][0], totals["to"][0]) == (history.wallet.id, "2025-03-01",
                                                                           "2025-03-02")  # fmt: skip


def test_csv_cells_from_customers_cannot_become_formulas(wallet, product):
    payer, payee = wallet(10_000), wallet()
    api.transfer(source_wallet_id=payer.id, destination_wallet_id=payee.id, amount=1_000, currency="PHP",
                 reference=ref(), description="=HYPERLINK(\"http://evil\")")  # fmt: skip
    today = datetime.now(MANILA).date()

    text = b"".join(render_csv(wallet_statement(wallet_id=payee.id, date_from=today, date_to=today))).decode()

    assert list(csv.reader(io.StringIO(text)))[1][5] == '\'=HYPERLINK("http://evil")'


def raw_text(data: bytes) -> str:
    """An uncompressed PDF's page streams, its string escapes undone: enough to find a text in."""
    return data.decode("latin-1").replace("\\(", "(").replace("\\)", ")")


def pdf_text(data: bytes) -> str:
    """The PDF's text: pdftotext when installed (poppler-utils), else the uncompressed page streams."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
        return done.stdout.decode()
    return raw_text(data)


def test_the_pdf_shows_the_tenant_the_wallet_the_period_the_lines_and_the_totals(history, module_tenant):
    statement = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 2), date_to=date(2025, 3, 2))

    data = b"".join(render_pdf(statement, tenant_name=module_tenant.name, compress=False))

    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    for text in (raw_text(data), pdf_text(data)):  # the raw page streams, and as a reader sees them
        assert module_tenant.name in text
        assert history.wallet.id in text
        assert "Period 2025-03-02 to 2025-03-02 (Asia/Manila)" in text
        assert "Page 1 of 1" in text
        assert history.cash_out.id in text and "Transfer out" in text
        for figure in ("1,500.00", "1,023.00", "250.00", "727.00"):  # opening, closing, credits, debits
            assert figure in text, figure
    again = wallet_statement(wallet_id=history.wallet.id, date_from=date(2025, 3, 2), date_to=date(2025, 3, 2))
    compressed = b"".join(render_pdf(again, tenant_name=module_tenant.name))
    assert compressed.startswith(b"%PDF-") and len(compressed) < len(data)


def synthetic(line_count: int) -> WalletStatement:
    """A statement of `line_count` cash-ins of 1.00, without the database (page layout tests)."""
    posted = datetime(2025, 3, 1, 1, tzinfo=MANILA)
    lines = (
        StatementLine(sequence=n, entry_id=f"jrn_{n:026d}", external_ref=f"cin_{n:026d}:post", kind="standard",
                      description="Cash-in", direction="credit", amount=100, balance_after=100 * n,
                      posted_at=posted, effective_at=posted)
        for n in range(1, line_count + 1)
    )  # fmt: skip
    return WalletStatement(
        wallet_id="wal_01jtest0000000000000000000", currency="PHP", date_from=date(2025, 3, 1),
        date_to=date(2025, 3, 31), time_zone="Asia/Manila", opening_balance=0, closing_balance=100 * line_count,
        line_count=line_count, _ledger_lines=lines,
    )  # fmt: skip


FIRST, OTHER = statements._rows_per_page(True), statements._rows_per_page(False)


@pytest.mark.parametrize(
    "line_count", [0, 1, FIRST - 9, FIRST - 8, FIRST - 7, FIRST, FIRST + 1, FIRST + OTHER - 8, FIRST + OTHER, 3 * OTHER]
)
def test_the_pdf_has_the_pages_it_announces(line_count):
    data = b"".join(render_pdf(synthetic(line_count), tenant_name="Acme Pay", compress=False))

    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages == pdf_page_count(line_count)
    assert f"Page {pages} of {pages}".encode() in data and f"Page {pages + 1} of".encode() not in data
    assert data.count(b"cin_") == line_count and data.count(b"Closing balance") == 2
    assert f"{line_count:,} transactions".encode() in data


@pytest.mark.parametrize(
    ("date_from", "date_to", "field", "code"),
    [
        (None, "2025-03-01", "from", "required"),
        ("2025-03-01", "", "to", "required"),
        ("2025-02-30", "2025-03-01", "from", "invalid_date"),
        ("2025-03-01", "01/03/2025", "to", "invalid_date"),
        ("2025-03-02", "2025-03-01", "to", "invalid_range"),
        ("2025-01-01", "2026-01-02", "to", "range_too_long"),  # 367 days
    ],
)
def test_bad_dates_are_refused_naming_the_field(history, date_from, date_to, field, code):
    with pytest.raises(InvalidInput) as caught:
        wallet_statement(wallet_id=history.wallet.id, date_from=date_from, date_to=date_to)

    assert caught.value.code == "validation_error"
    assert [(e.field, e.code) for e in caught.value.errors] == [(field, code)]


def test_a_leap_year_fits_and_an_unknown_wallet_is_not_found(history):
    year = wallet_statement(wallet_id=history.wallet.id, date_from=date(2024, 1, 1), date_to=date(2024, 12, 31))
    assert year.line_count == 0 and year.closing_balance == 0
    with pytest.raises(NotFound):
        wallet_statement(wallet_id="wal_00000000000000000000000000", date_from="2025-03-01", date_to="2025-03-01")


# --- the REST view (mounted here: config.urls_api is not ours to edit) -----------------------------

urlpatterns = [
    path("v1/wallets/<str:wallet_id>/statement", WalletStatementView.as_view(), name="wallet-statement"),
    path("", include("config.urls_public")),
]


@pytest.fixture
def http(settings, module_tenant, product):
    """GET the statement endpoint with a key of `scopes`; the test stays in the tenant's schema."""
    settings.PUBLIC_SCHEMA_URLCONF = __name__
    tenant = Tenant.objects.get(pk=module_tenant.pk)

    def get(wallet_id: str, scopes=("wallets:read",), headers=None, **params):
        issued = api_key_create(tenant=tenant, name="statements", scopes=list(scopes))
        response = api_client(issued.secret).get(f"/v1/wallets/{wallet_id}/statement", params, **(headers or {}))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        connection.set_tenant(module_tenant)
        return response, body

    return get


def test_the_endpoint_streams_each_format(history, http, module_tenant):
    wallet_id = history.wallet.id

    response, body = http(wallet_id, **{"from": "2025-03-01", "to": "2025-03-02"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/json" and response["Cache-Control"] == "no-store"
    document = json.loads(body)
    assert (document["opening_balance"], document["closing_balance"], len(document["lines"])) == (0, 102_300, 7)

    response, body = http(wallet_id, **{"from": "2025-03-01", "to": "2025-03-02", "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="statement-{wallet_id}-2025-03-01-2025-03-02.csv"'
    assert ["closing_balance", "102300", "1023.00"] in list(csv.reader(io.StringIO(body.decode())))

    response, body = http(wallet_id, headers={"HTTP_ACCEPT": "application/pdf"},
                          **{"from": "2025-03-01", "to": "2025-03-02", "format": "pdf"})  # fmt: skip
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].endswith('-2025-03-01-2025-03-02.pdf"')
    assert body.startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = pdf_text(body)
        assert module_tenant.name in text and wallet_id in text and "1,023.00" in text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-01", "to": "2025-03-02", "format": "xlsx"}, "format"),
        ({"to": "2025-03-02"}, "from"),
        ({"from": "2025-03-01", "to": "2025-3-xx"}, "to"),
        ({"from": "2025-03-03", "to": "2025-03-02"}, "to"),
        ({"from": "2025-03-01", "to": "2025-03-02", "limit": "5"}, "limit"),
    ],
)
def test_the_endpoint_refuses_a_bad_query_naming_the_parameter(history, http, params, field):
    response, _ = http(history.wallet.id, **params)

    assert error_fields(problem(response, 400, "validation_error")) == [field]


def test_the_endpoint_answers_404_for_an_unknown_wallet_and_403_without_the_scope(history, http):
    response, _ = http("wal_00000000000000000000000000", **{"from": "2025-03-01", "to": "2025-03-02"})
    problem(response, 404, "not_found")

    response, _ = http(history.wallet.id, scopes=("customers:read",), **{"from": "2025-03-01", "to": "2025-03-02"})
    problem(response, 403, "insufficient_scope")
