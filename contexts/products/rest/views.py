"""The unified product API (`/v1/`, API.md): customers and KYC, wallets, money movement, QR Ph,
transactions. Views are thin: parse, call contexts.products.api (or a primitive's api for pure
reads and set-ups), render. Errors are platform errors rendered as problem+json by the kernel;
an id unknown in this tenant is `404 not_found` whichever context looked for it.

Money-moving POSTs require an Idempotency-Key; it is also the operation's reference (per API
key), so a retried request is answered by the first operation even past the key's retention.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import wraps

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from contexts.identity import api as identity_api
from contexts.qrph import api as qrph_api
from contexts.wallets import api as wallets_api
from finfactory.api.pagination import parse_limit
from finfactory.errors import FieldError, NotFound, PlatformError
from finfactory.idempotency.services import idempotent

from .. import api
from . import serializers as s

CUSTOMERS_READ, CUSTOMERS_WRITE = "customers:read", "customers:write"
WALLETS_READ, WALLETS_WRITE = "wallets:read", "wallets:write"
MONEY, QR = "money:move", "qr:write"
ID_FIELDS = {"customer_not_found": "customer_id", "wallet_not_found": "wallet_id"}


def _valid(serializer_class, data) -> dict:
    payload = serializer_class(data=data)
    payload.is_valid(raise_exception=True)
    return payload.validated_data


def not_found_as_api(view: Callable) -> Callable:
    """Every context's "no such id" is the API's `404 not_found` (API.md), the field kept."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except NotFound as exc:
            if exc.code == "not_found":
                raise
            errors = [FieldError(e.field, e.message, "not_found") for e in exc.errors]
            raise NotFound(exc.detail, code="not_found", errors=errors) from exc

    return wrapped


def _reference(request) -> str:
    """The operation's reference: the Idempotency-Key, per API key."""
    return f"{request.auth.public_id}:{request.headers['Idempotency-Key']}"


def _page(page, serializer) -> dict:
    return {"data": serializer(page.items, many=True).data, "has_more": page.has_more, "next_cursor": page.next_cursor}


LIST_PARAMETERS = [
    OpenApiParameter("limit", int, description="1-100, default 20"),
    OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
]


# --- customers -------------------------------------------------------------------------------------


class CustomerListView(APIView):
    required_scopes = {"GET": CUSTOMERS_READ, "POST": CUSTOMERS_WRITE}

    @extend_schema(
        operation_id="customers_list",
        tags=["customers"],
        summary="List customers",
        parameters=[*LIST_PARAMETERS, OpenApiParameter("external_id", str), OpenApiParameter("kyc_status", str)],
        responses=s.CustomerPage,
    )
    def get(self, request):
        query = request.query_params
        page = identity_api.customer_list(
            external_id=query.get("external_id"),
            kyc_status=query.get("kyc_status"),
            limit=parse_limit(query.get("limit")),
            cursor=query.get("cursor"),
        )
        return Response(_page(page, s.CustomerOut))

    @extend_schema(
        operation_id="customers_create",
        tags=["customers"],
        summary="Create a customer",
        request=s.CustomerIn,
        responses={201: s.CustomerOut},
    )
    @idempotent(required=False)
    def post(self, request):
        created = identity_api.customer_create(**_valid(s.CustomerIn, request.data))
        return Response(s.CustomerOut(created).data, status=201)


class CustomerDetailView(APIView):
    required_scopes = {"GET": CUSTOMERS_READ}

    @extend_schema(operation_id="customers_get", tags=["customers"], summary="Get a customer", responses=s.CustomerOut)
    @not_found_as_api
    def get(self, request, customer_id: str):
        return Response(s.CustomerOut(identity_api.customer_get(customer_id=customer_id)).data)


class CustomerKycView(APIView):
    required_scopes = {"GET": CUSTOMERS_READ, "POST": CUSTOMERS_WRITE}

    @extend_schema(
        operation_id="customers_kyc_get", tags=["customers"], summary="The customer's KYC status", responses=s.KycOut
    )
    @not_found_as_api
    def get(self, request, customer_id: str):
        return Response(s.KycOut(identity_api.kyc_status(customer_id=customer_id)).data)

    @extend_schema(
        operation_id="customers_kyc_submit",
        tags=["customers"],
        summary="Submit KYC",
        description="The provider answers asynchronously: `kyc_status` becomes verified or rejected. Sandbox: "
        "an id_number ending in 0000 is rejected, any other is verified within seconds.",
        request=s.KycIn,
        responses={202: s.KycOut},
    )
    @idempotent(required=False)
    @not_found_as_api
    def post(self, request, customer_id: str):
        status = identity_api.kyc_submit(customer_id=customer_id, **_valid(s.KycIn, request.data))
        return Response(s.KycOut(status).data, status=202)


# --- wallets ---------------------------------------------------------------------------------------


def _wallet(dto) -> dict:
    return s.WalletOut(dto).data


class WalletListView(APIView):
    required_scopes = {"GET": WALLETS_READ, "POST": WALLETS_WRITE}

    @extend_schema(
        operation_id="wallets_list",
        tags=["wallets"],
        summary="List wallets",
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter("customer_id", str),
            OpenApiParameter("currency", str),
            OpenApiParameter("status", str),
        ],
        responses=s.WalletPage,
    )
    def get(self, request):
        query = request.query_params
        page = wallets_api.wallet_list(
            customer_id=query.get("customer_id"),
            currency=query.get("currency"),
            status=query.get("status"),
            limit=parse_limit(query.get("limit")),
            cursor=query.get("cursor"),
        )
        return Response(_page(page, s.WalletOut))

    @extend_schema(
        operation_id="wallets_create",
        tags=["wallets"],
        summary="Open a wallet",
        description="One open wallet per customer and currency: asking again returns it (200).",
        request=s.WalletIn,
        responses={201: s.WalletOut, 200: OpenApiResponse(s.WalletOut, description="Already open.")},
    )
    @idempotent(required=False)
    @not_found_as_api
    def post(self, request):
        opened = api.wallet_open(**_valid(s.WalletIn, request.data))
        return Response(_wallet(opened), status=200 if opened.replayed else 201)


class WalletDetailView(APIView):
    required_scopes = {"GET": WALLETS_READ}

    @extend_schema(operation_id="wallets_get", tags=["wallets"], summary="Get a wallet", responses=s.WalletOut)
    @not_found_as_api
    def get(self, request, wallet_id: str):
        return Response(_wallet(wallets_api.wallet_get(wallet_id=wallet_id)))


class WalletBalanceView(APIView):
    required_scopes = {"GET": WALLETS_READ}

    @extend_schema(
        operation_id="wallets_balance",
        tags=["wallets"],
        summary="The wallet's balance",
        description="available = posted - held (funds held for pending cash-outs and payments).",
        responses=s.WalletBalanceOut,
    )
    @not_found_as_api
    def get(self, request, wallet_id: str):
        return Response(s.WalletBalanceOut(api.balance_get(wallet_id=wallet_id)).data)


def _status_view(action: str, summary: str):
    class WalletStatusView(APIView):
        required_scopes = {"POST": WALLETS_WRITE}

        @extend_schema(
            operation_id=f"wallets_{action}",
            tags=["wallets"],
            summary=summary,
            request=s.WalletStatusIn,
            responses=s.WalletOut,
        )
        @idempotent(required=False)
        @not_found_as_api
        def post(self, request, wallet_id: str):
            reason = _valid(s.WalletStatusIn, request.data or {}).get("reason") or f"{action} by the client"
            if action == "close":
                api.wallet_close(wallet_id=wallet_id, reason=reason, reference=f"close:{wallet_id}")
                return Response(_wallet(wallets_api.wallet_get(wallet_id=wallet_id)))
            change = wallets_api.wallet_suspend if action == "suspend" else wallets_api.wallet_activate
            try:
                return Response(_wallet(change(wallet_id=wallet_id, reason=reason)))
            except PlatformError as exc:
                if exc.code == "invalid_transition":
                    raise type(exc)(exc.detail, code="wallet_not_active", errors=exc.errors) from exc
                raise

    WalletStatusView.__name__ = f"Wallet{action.capitalize()}View"
    return WalletStatusView


WalletSuspendView = _status_view("suspend", "Suspend a wallet (it can neither send nor receive)")
WalletActivateView = _status_view("activate", "Reactivate a suspended wallet")
WalletCloseView = _status_view("close", "Close a wallet (its balance must be zero)")


# --- money movement --------------------------------------------------------------------------------


def _operation(dto, **extra) -> dict:
    return {
        "id": dto.id,
        "status": dto.status,
        "amount": dto.amount,
        "fee": dto.fee,
        "currency": dto.currency,
        "transaction_id": dto.transaction_id,
        "failure_code": dto.failure_code,
        "created_at": dto.created_at,
        **extra,
    }


def _created(dto, out, **extra) -> Response:
    return Response(out(_operation(dto, **extra)).data, status=201)


MONEY_RESPONSES = {422: OpenApiResponse(description="A business rule refused it (problem+json `code`).")}


class CashInView(APIView):
    required_scopes = {"POST": MONEY}

    @extend_schema(
        operation_id="cash_ins_create",
        tags=["money"],
        summary="Cash in",
        description="Credit a wallet from the tenant's float: limits, fraud, then the ledger.",
        request=s.CashInIn,
        responses={201: s.CashInOut},
    )
    @idempotent(required=True)
    @not_found_as_api
    def post(self, request):
        data = _valid(s.CashInIn, request.data)
        done = api.cash_in(
            wallet_id=data["wallet_id"],
            amount=data["amount"],
            currency=data["currency"],
            reference=_reference(request),
            channel=data.get("channel"),
        )
        return _created(done, s.CashInOut, wallet_id=done.wallet_id, reference=data.get("reference"))


class CashOutView(APIView):
    required_scopes = {"POST": MONEY}

    @extend_schema(
        operation_id="cash_outs_create",
        tags=["money"],
        summary="Cash out",
        description="Hold the amount and fee, pay out through the payout provider: `pending` until it "
        "answers, then `succeeded` (captured) or `failed` (released).",
        request=s.CashOutIn,
        responses={201: s.CashOutOut},
    )
    @idempotent(required=True)
    @not_found_as_api
    def post(self, request):
        data = _valid(s.CashOutIn, request.data)
        done = api.cash_out(
            wallet_id=data["wallet_id"],
            amount=data["amount"],
            currency=data["currency"],
            reference=_reference(request),
            destination=data.get("destination"),
        )
        return _created(done, s.CashOutOut, wallet_id=done.wallet_id, destination=data.get("destination") or {})


class TransferView(APIView):
    required_scopes = {"POST": MONEY}

    @extend_schema(
        operation_id="transfers_create",
        tags=["money"],
        summary="Transfer between wallets",
        request=s.WalletTransferIn,
        responses={201: s.WalletTransferOut},
    )
    @idempotent(required=True)
    @not_found_as_api
    def post(self, request):
        data = _valid(s.WalletTransferIn, request.data)
        done = api.transfer(reference=_reference(request), **data)
        return _created(
            done,
            s.WalletTransferOut,
            source_wallet_id=done.wallet_id,
            destination_wallet_id=done.counterparty_wallet_id,
            description=data.get("description", ""),
        )


class OperationDetailView(APIView):
    """GET of a cash-in, cash-out or transfer by id (each under its own path)."""

    required_scopes = {"GET": WALLETS_READ}
    kind = ""
    out = s.OperationOut

    @not_found_as_api
    def get(self, request, operation_id: str):
        done = api.operation_get(operation_id=operation_id)
        if done.kind != self.kind:
            raise NotFound("No such resource.", code="not_found", errors=[FieldError("id", "Not found.", "not_found")])
        return Response(self.out(_operation(done, **self.fields_of(done))).data)

    def fields_of(self, done) -> dict:
        return {}


def _detail(kind: str, out, extra: Callable, summary: str):
    def get(self, request, operation_id: str):
        return OperationDetailView.get(self, request, operation_id)

    schema = extend_schema(operation_id=f"{kind}s_get", tags=["money"], summary=summary, responses=out)
    return type(
        f"{kind.title().replace('_', '')}DetailView",
        (OperationDetailView,),
        {"kind": kind, "out": out, "get": schema(get), "fields_of": lambda self, done: extra(done)},
    )


CashInDetailView = _detail(
    "cash_in", s.CashInOut, lambda d: {"wallet_id": d.wallet_id, "reference": None}, "Get a cash-in"
)
CashOutDetailView = _detail(
    "cash_out", s.CashOutOut, lambda d: {"wallet_id": d.wallet_id, "destination": {}}, "Get a cash-out"
)
TransferDetailView = _detail(
    "transfer",
    s.WalletTransferOut,
    lambda d: {"source_wallet_id": d.wallet_id, "destination_wallet_id": d.counterparty_wallet_id, "description": ""},
    "Get a transfer",
)


# --- QR Ph -------------------------------------------------------------------------------------------


def _qr_code(dto, wallet_id: str) -> dict:
    image = qrph_api.qr_image(payload=dto.payload, format="png")
    return s.QrCodeOut(
        {
            "id": dto.id,
            "wallet_id": wallet_id,
            "type": dto.type,
            "amount": dto.amount,
            "currency": dto.currency,
            "payload": dto.payload,
            "expires_at": dto.expires_at,
            "created_at": dto.created_at,
            "image_png_base64": base64.b64encode(image.data).decode(),
        }
    ).data


class QrCodeCreateView(APIView):
    required_scopes = {"POST": QR}

    @extend_schema(
        operation_id="qr_codes_create",
        tags=["qr"],
        summary="Generate a QR Ph code",
        description="Static without an amount (the payer enters it), dynamic with one (paid once). The "
        "wallet becomes a merchant with this name, city and category.",
        request=s.QrCodeIn,
        responses={201: s.QrCodeOut},
    )
    @idempotent(required=False)
    @not_found_as_api
    def post(self, request):
        data = _valid(s.QrCodeIn, request.data)
        code = api.qr_code_create(**data)
        return Response(_qr_code(code, data["wallet_id"]), status=201)


class QrCodeDetailView(APIView):
    required_scopes = {"GET": QR}

    @extend_schema(operation_id="qr_codes_get", tags=["qr"], summary="Get a QR code", responses=s.QrCodeOut)
    @not_found_as_api
    def get(self, request, qr_code_id: str):
        code = qrph_api.qr_code_get(qr_code_id=qr_code_id)
        return Response(_qr_code(code, code.wallet_id))


class QrCodeImageView(APIView):
    required_scopes = {"GET": QR}

    @extend_schema(
        operation_id="qr_codes_image",
        tags=["qr"],
        summary="The QR code as a PNG image",
        responses={(200, "image/png"): OpenApiResponse(description="PNG")},
    )
    @not_found_as_api
    def get(self, request, qr_code_id: str):
        from django.http import HttpResponse

        code = qrph_api.qr_code_get(qr_code_id=qr_code_id)
        image = qrph_api.qr_image(payload=code.payload, format="png")
        return HttpResponse(image.data, content_type=image.content_type)


class QrDecodeView(APIView):
    required_scopes = {"POST": QR}

    @extend_schema(
        operation_id="qr_codes_decode",
        tags=["qr"],
        summary="Decode a QR code",
        description="Any EMVCo merchant-presented code; 422 invalid_qr names the tag that is wrong.",
        request=s.QrDecodeIn,
        responses=s.QrDecodedOut,
    )
    def post(self, request):
        decoded = qrph_api.qr_decode(payload=_valid(s.QrDecodeIn, request.data)["payload"])
        return Response(s.QrDecodedOut(decoded).data)


def _qr_payment(done) -> dict:
    status = {"succeeded": "confirmed"}.get(done.status, done.status)
    return s.QrPaymentOut(
        _operation(
            done,
            status=status,
            wallet_id=done.wallet_id,
            route=done.qr_route,
            merchant_wallet_id=done.counterparty_wallet_id,
            network_payment_id=done.qr_payment_id,
        )
    ).data


class QrPaymentView(APIView):
    required_scopes = {"POST": MONEY}

    @extend_schema(
        operation_id="qr_payments_create",
        tags=["qr"],
        summary="Pay a QR code",
        description="On-us codes settle at once (`confirmed`); others go through the QR Ph network "
        "(`pending`, then `confirmed` or `failed`). A static code needs `amount`.",
        request=s.QrPaymentIn,
        responses={201: s.QrPaymentOut},
    )
    @idempotent(required=True)
    @not_found_as_api
    def post(self, request):
        data = _valid(s.QrPaymentIn, request.data)
        done = api.qr_payment(
            wallet_id=data["wallet_id"],
            payload=data["payload"],
            amount=data.get("amount"),
            reference=_reference(request),
        )
        return Response(_qr_payment(done), status=201)


class QrPaymentDetailView(APIView):
    required_scopes = {"GET": WALLETS_READ}

    @extend_schema(operation_id="qr_payments_get", tags=["qr"], summary="Get a QR payment", responses=s.QrPaymentOut)
    @not_found_as_api
    def get(self, request, operation_id: str):
        done = api.operation_get(operation_id=operation_id)
        if done.kind != "qr_payment":
            raise NotFound("No such resource.", code="not_found", errors=[FieldError("id", "Not found.", "not_found")])
        return Response(_qr_payment(done))


# --- transactions ------------------------------------------------------------------------------------


class TransactionListView(APIView):
    required_scopes = {"GET": WALLETS_READ}

    @extend_schema(
        operation_id="transactions_list",
        tags=["transactions"],
        summary="List transactions",
        description="Newest first; each carries the wallet's balance after it.",
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter("wallet_id", str),
            OpenApiParameter("type", str),
            OpenApiParameter("created_after", str, description="RFC 3339"),
            OpenApiParameter("created_before", str, description="RFC 3339"),
        ],
        responses=s.TransactionPage,
    )
    def get(self, request):
        query = request.query_params
        page = api.transactions_list(
            wallet_id=query.get("wallet_id"),
            type=query.get("type"),
            created_after=query.get("created_after"),
            created_before=query.get("created_before"),
            limit=parse_limit(query.get("limit")),
            cursor=query.get("cursor"),
        )
        return Response(_page(page, s.TransactionOut))


class TransactionDetailView(APIView):
    required_scopes = {"GET": WALLETS_READ}

    @extend_schema(
        operation_id="transactions_get", tags=["transactions"], summary="Get a transaction", responses=s.TransactionOut
    )
    @not_found_as_api
    def get(self, request, transaction_id: str):
        return Response(s.TransactionOut(api.transaction_get(transaction_id=transaction_id)).data)
