"""`GET /v1/wallets/{wallet_id}/statement?from=&to=[&format=json|csv|pdf]` (API.md): a wallet's
statement over the tenant's calendar days, streamed (contexts.products.statements).

Everything that can refuse the request (the query, the wallet) runs before the response starts,
so it is a problem+json with its status; the body is produced after the view returned, in the
tenant's schema, a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.views import APIView

from finfactory.api.serializers import ObjectTypeField, StrictSerializer
from finfactory.tenancy.context import in_tenant, tenant_get

from ..statements import render_csv, render_json, render_pdf, wallet_statement
from ..transactions import TYPES
from .views import not_found_as_api

FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


class _FirstRenderer(BaseContentNegotiation):
    """The statement's format is the `format` parameter, not the Accept header: a client asking
    for `Accept: application/pdf` gets its PDF, and any refusal as problem+json, never a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _with_from(fields: dict, field: serializers.Field) -> dict:
    # `from` is a Python keyword: declared here, first, rather than as a class attribute.
    return {"from": field, **fields}


class WalletStatementQuery(StrictSerializer):
    to = serializers.DateField(help_text="Last day of the period, YYYY-MM-DD, in the tenant's time zone (included).")
    format = serializers.ChoiceField(choices=list(FORMATS), default="json", help_text="json (default), csv or pdf.")

    def get_fields(self):
        return _with_from(
            super().get_fields(),
            serializers.DateField(help_text="First day of the period, YYYY-MM-DD, in the tenant's time zone."),
        )


class WalletStatementLineOut(serializers.Serializer):
    transaction_id = serializers.CharField(help_text="The ledger entry (jrn_…): a money movement's transaction_id.")
    type = serializers.ChoiceField(choices=list(TYPES), help_text="As in the transactions API.")
    direction = serializers.ChoiceField(choices=["credit", "debit"], help_text="credit: money in; debit: money out.")
    amount = serializers.IntegerField(help_text="Minor units, > 0.")
    balance_after = serializers.IntegerField(help_text="The wallet's posted balance after this line.")
    description = serializers.CharField()
    reference_id = serializers.CharField(allow_null=True, help_text="The operation (cin_, cout_, trf_, qrpay_ …).")
    posted_at = serializers.DateTimeField()


class WalletStatementOut(serializers.Serializer):
    """The JSON document, written in this order: the figures known up front, `lines`, then the
    totals summed on the way (opening_balance + total_credits - total_debits = closing_balance)."""

    object = ObjectTypeField("wallet_statement")
    wallet_id = serializers.CharField()
    currency = serializers.CharField()
    to = serializers.DateField()
    time_zone = serializers.CharField(help_text="IANA zone of the tenant: a statement day is a calendar day there.")
    opening_balance = serializers.IntegerField(help_text="Posted balance at 00:00 of `from`.")
    closing_balance = serializers.IntegerField(help_text="Posted balance at 00:00 of the day after `to`.")
    line_count = serializers.IntegerField()
    lines = WalletStatementLineOut(many=True, help_text="In ledger order, oldest first.")
    total_credits = serializers.IntegerField()
    total_debits = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        return {"object": fields.pop("object"), "wallet_id": fields.pop("wallet_id"),
                "currency": fields.pop("currency"), **_with_from(fields, serializers.DateField())}  # fmt: skip


OK_DESCRIPTION = "The statement, streamed: JSON by default, CSV or PDF (as an attachment) with `format`."


def _in_schema_of(tenant, chunks: Iterator[bytes]) -> Iterator[bytes]:
    # The body is produced after the view returned: read the ledger in the request's tenant schema.
    with in_tenant(tenant):
        yield from chunks


class WalletStatementView(APIView):
    required_scopes = {"GET": "wallets:read"}
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        operation_id="wallets_statement",
        tags=["wallets"],
        summary="Get a wallet's statement",
        description=(
            "Opening balance at 00:00 of `from`, every posting up to 00:00 of the day after `to` (the "
            "tenant's calendar days, in its time zone; at most 366 days by default) and the closing balance, "
            "where opening_balance + total_credits - total_debits = closing_balance. `format=csv` and "
            "`format=pdf` carry the same figures (CSV: one row per line in minor and major units, then a "
            "summary block; PDF: A4 with the tenant, the wallet, the period, the lines and the totals). "
            "The body is streamed."
        ),
        parameters=[WalletStatementQuery],
        responses={
            (200, "application/json"): OpenApiResponse(WalletStatementOut, description=OK_DESCRIPTION),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=OK_DESCRIPTION),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=OK_DESCRIPTION),
        },
    )
    @not_found_as_api
    def get(self, request, wallet_id: str):
        query = WalletStatementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        date_from, date_to, fmt = (
            query.validated_data["from"],
            query.validated_data["to"],
            query.validated_data["format"],
        )
        statement = wallet_statement(wallet_id=wallet_id, date_from=date_from, date_to=date_to)
        if fmt == "pdf":
            chunks = render_pdf(statement, tenant_name=tenant_get(request.tenant.slug).name)
        else:
            chunks = render_csv(statement) if fmt == "csv" else render_json(statement)
        response = StreamingHttpResponse(_in_schema_of(request.tenant, chunks), content_type=FORMATS[fmt])
        response["Cache-Control"] = "no-store"
        if fmt != "json":
            filename = f"statement-{statement.wallet_id}-{date_from.isoformat()}-{date_to.isoformat()}.{fmt}"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
