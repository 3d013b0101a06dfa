"""`/internal/ledger/`: operators' HTTP access to the ledger (scopes ledger:read, ledger:write).

Every view calls contexts.ledger.api and renders its DTOs; the ledger's errors are platform
errors, rendered by the kernel's exception handler. Money-moving operations need an
Idempotency-Key and pass their `external_ref` to the ledger, which dedupes on it as well: a
new entry or hold answers 201, a replay of the same `external_ref` 200.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from contexts.ledger import api
from finfactory.api.pagination import parse_limit
from finfactory.idempotency.services import idempotent
from finfactory.money import require_currency
from finfactory.tenancy.context import in_tenant

from . import serializers as s

READ, WRITE = "ledger:read", "ledger:write"
TAGS = ["ledger"]
STATEMENT_CHUNK_LINES = 500


def _valid(serializer_class, data) -> dict:
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def _created_or_replayed(dto) -> int:
    return 200 if dto.replayed else 201


def _created_or_replayed_responses(out, *, replay: str = "the external_ref") -> dict:
    return {201: out, 200: OpenApiResponse(out, description=f"Replay of {replay}.")}


def _no_body(request) -> None:
    _valid(s.EmptyIn, request.data or {})


# --- accounts ----------------------------------------------------------------------------------


class AccountListView(APIView):
    required_scopes = {"GET": READ, "POST": WRITE}

    @extend_schema(
        operation_id="ledger_accounts_list",
        tags=TAGS,
        summary="List accounts",
        description="Accounts oldest first, `limit` at a time; pass `next_cursor` back as `cursor` for more.",
        parameters=[
            OpenApiParameter("owner_ref", str, description="Only the accounts of this owner, e.g. wal_…"),
            OpenApiParameter("currency", str, description="Only accounts in this ISO 4217 currency"),
            OpenApiParameter("limit", int, description="1-100, default 20"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
        ],
        responses=s.AccountListOut,
    )
    def get(self, request):
        query = request.query_params
        currency = query.get("currency")
        if currency is not None:
            require_currency(currency, field="currency")
        limit = parse_limit(query.get("limit"))
        page = api.accounts_list(
            owner_ref=query.get("owner_ref"), currency=currency, limit=limit, cursor=query.get("cursor")
        )
        return Response(
            {
                "data": s.AccountOut(page.items, many=True).data,
                "has_more": page.next_cursor is not None,
                "next_cursor": page.next_cursor,
            }
        )

    @extend_schema(
        operation_id="ledger_account_open",
        tags=TAGS,
        summary="Open an account",
        request=s.AccountOpenIn,
        responses={201: s.AccountOut},
    )
    @idempotent(required=False)
    def post(self, request):
        account = api.account_open(**_valid(s.AccountOpenIn, request.data))
        return Response(s.AccountOut(account).data, status=201)


class AccountDetailView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(operation_id="ledger_account_get", tags=TAGS, summary="Get an account", responses=s.AccountOut)
    def get(self, request, account_id: str):
        return Response(s.AccountOut(api.account_get(account_id=account_id)).data)


class AccountBalanceView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="ledger_account_balance", tags=TAGS, summary="Get an account's balance", responses=s.BalanceOut
    )
    def get(self, request, account_id: str):
        return Response(s.BalanceOut(api.balance_get(account_id=account_id)).data)


class AccountPostingsView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="ledger_account_postings",
        tags=TAGS,
        summary="List an account's postings",
        description="Newest first (by the account's sequence); pass `next_cursor` back as `cursor`.",
        parameters=[
            OpenApiParameter("limit", int, description="1-100, default 20"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
        ],
        responses=s.PostingPageOut,
    )
    def get(self, request, account_id: str):
        limit = parse_limit(request.query_params.get("limit"))
        page = api.postings_list(account_id=account_id, limit=limit, cursor=request.query_params.get("cursor") or None)
        return Response(
            {
                "data": s.PostingOut(page.items, many=True).data,
                "has_more": page.next_cursor is not None,
                "next_cursor": page.next_cursor,
            }
        )


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def statement_chunks(statement: api.Statement) -> Iterator[str]:
    """The statement as one JSON document in pieces: header, then lines a batch at a time."""
    header = _json(dict(s.StatementHeaderOut(statement).data))
    yield header[:-1] + ',"lines":['
    line_out = s.StatementLineOut()
    batch: list[str] = []
    first = True
    for line in statement.lines:
        batch.append(_json(line_out.to_representation(line)))
        if len(batch) >= STATEMENT_CHUNK_LINES:
            yield ("" if first else ",") + ",".join(batch)
            first, batch = False, []
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]}"


def _in_schema_of(tenant, chunks: Iterator[str]) -> Iterator[bytes]:
    # The body is produced after the view returned: read the lines in the request's tenant schema.
    with in_tenant(tenant):
        for chunk in chunks:
            yield chunk.encode()


class AccountStatementView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="ledger_account_statement",
        tags=TAGS,
        summary="Stream an account statement",
        description=(
            "Opening balance at `start`, every posting in [start, end) with the balance after it, and the "
            "closing balance at `end`. The body is streamed (chunked): the header fields first, then `lines` "
            "as they are read, so a statement of any length is served in constant memory."
        ),
        parameters=[s.StatementQuery],
        responses={200: OpenApiResponse(s.StatementOut, description="Streamed JSON document.")},
    )
    def get(self, request, account_id: str):
        period = _valid(s.StatementQuery, request.query_params)
        statement = api.account_statement(account_id=account_id, start=period["start"], end=period["end"])
        response = StreamingHttpResponse(
            _in_schema_of(request.tenant, statement_chunks(statement)), content_type="application/json"
        )
        response["Cache-Control"] = "no-store"
        return response


class AccountFreezeView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_account_freeze",
        tags=TAGS,
        summary="Freeze an account",
        description="A frozen account takes no postings; giving back a hold still works.",
        request=None,
        responses=s.AccountOut,
    )
    @idempotent(required=False)
    def post(self, request, account_id: str):
        _no_body(request)
        return Response(s.AccountOut(api.account_freeze(account_id=account_id)).data)


class AccountUnfreezeView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_account_unfreeze", tags=TAGS, summary="Unfreeze an account", request=None,
        responses=s.AccountOut,
    )  # fmt: skip
    @idempotent(required=False)
    def post(self, request, account_id: str):
        _no_body(request)
        return Response(s.AccountOut(api.account_unfreeze(account_id=account_id)).data)


# --- entries and transfers ---------------------------------------------------------------------


class EntryCreateView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_entry_post",
        tags=TAGS,
        summary="Post an entry",
        description="A balanced entry: at least two postings, debits equal credits in each currency.",
        request=s.EntryPostIn,
        responses=_created_or_replayed_responses(s.EntryOut),
    )
    @idempotent(required=True)
    def post(self, request):
        payload = s.EntryPostIn(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        entry = api.entry_post(
            external_ref=data["external_ref"],
            postings=payload.lines(),
            description=data.get("description", ""),
            metadata=data.get("metadata"),
            effective_at=data.get("effective_at"),
        )
        return Response(s.EntryOut(entry).data, status=_created_or_replayed(entry))


class EntryDetailView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(operation_id="ledger_entry_get", tags=TAGS, summary="Get an entry", responses=s.EntryOut)
    def get(self, request, entry_id: str):
        return Response(s.EntryOut(api.entry_get(entry_id=entry_id)).data)


class EntryReversalView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_entry_reverse",
        tags=TAGS,
        summary="Reverse an entry",
        description=(
            "Posts the opposite entry: in full (no `amount`: whatever is not yet reversed) or in part "
            "(`amount`, for an entry with one debit and one credit)."
        ),
        request=s.ReversalIn,
        responses=_created_or_replayed_responses(s.EntryOut),
    )
    @idempotent(required=True)
    def post(self, request, entry_id: str):
        entry = api.entry_reverse(entry_id=entry_id, **_valid(s.ReversalIn, request.data))
        return Response(s.EntryOut(entry).data, status=_created_or_replayed(entry))


class TransferView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_transfer",
        tags=TAGS,
        summary="Transfer between two accounts",
        request=s.TransferIn,
        responses=_created_or_replayed_responses(s.EntryOut),
    )
    @idempotent(required=True)
    def post(self, request):
        entry = api.transfer(**_valid(s.TransferIn, request.data))
        return Response(s.EntryOut(entry).data, status=_created_or_replayed(entry))


# --- holds -------------------------------------------------------------------------------------


class HoldCreateView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_hold_create",
        tags=TAGS,
        summary="Place a hold",
        description="Reserves available funds of a credit-normal account until captured, released or expired.",
        request=s.HoldCreateIn,
        responses=_created_or_replayed_responses(s.HoldOut),
    )
    @idempotent(required=True)
    def post(self, request):
        hold = api.hold_create(**_valid(s.HoldCreateIn, request.data))
        return Response(s.HoldOut(hold).data, status=_created_or_replayed(hold))


class HoldDetailView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(operation_id="ledger_hold_get", tags=TAGS, summary="Get a hold", responses=s.HoldOut)
    def get(self, request, hold_id: str):
        return Response(s.HoldOut(api.hold_get(hold_id=hold_id)).data)


class HoldCaptureView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_hold_capture",
        tags=TAGS,
        summary="Capture a hold",
        description=(
            "Posts `amount` (default: all of it) from the held account to the credit account and gives back "
            "the rest, in one entry (`capture_entry_id`). 201 when captured now, 200 for a replay."
        ),
        request=s.HoldCaptureIn,
        responses=_created_or_replayed_responses(s.HoldOut, replay="the capture"),
    )
    @idempotent(required=True)
    def post(self, request, hold_id: str):
        hold = api.hold_capture(hold_id=hold_id, **_valid(s.HoldCaptureIn, request.data))
        return Response(s.HoldOut(hold).data, status=_created_or_replayed(hold))


class HoldReleaseView(APIView):
    required_scopes = {"POST": WRITE}

    @extend_schema(
        operation_id="ledger_hold_release",
        tags=TAGS,
        summary="Release a hold",
        description="Gives the whole reservation back; releasing a released hold answers the same.",
        request=None,
        responses=s.HoldOut,
    )
    @idempotent(required=False)
    def post(self, request, hold_id: str):
        _no_body(request)
        return Response(s.HoldOut(api.hold_release(hold_id=hold_id)).data)


# --- reports -----------------------------------------------------------------------------------


class TrialBalanceView(APIView):
    required_scopes = {"GET": READ}

    @extend_schema(
        operation_id="ledger_trial_balance",
        tags=TAGS,
        summary="Trial balance",
        description="Per currency: Σ debit-normal and Σ credit-normal posted balances, equal when the books are sound.",
        responses=s.TrialBalanceOut,
    )
    def get(self, request):
        rows = api.trial_balance()
        return Response(
            {
                "object": "ledger_trial_balance",
                "balanced": all(row.difference == 0 for row in rows),
                "data": s.TrialBalanceRowOut(rows, many=True).data,
            }
        )
