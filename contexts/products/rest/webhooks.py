"""`/v1/webhook-endpoints`: a tenant registers the URLs that receive its events (scope
webhooks:manage for every method). Thin: parse → contexts.webhooks.api → render its DTOs.

The signing secret appears in the 201 of the create only (and in its idempotent replay, which the
kernel stores encrypted) and of a rotation; list and get never show it. DELETE answers 200
`{id, object, deleted}`. Deliveries: the log per endpoint (with attempts) and redelivery (202).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from contexts.webhooks import api
from finfactory.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, parse_limit
from finfactory.api.serializers import ObjectTypeField, StrictSerializer
from finfactory.idempotency.services import idempotent

SCOPE = "webhooks:manage"
TAGS = ["webhooks"]
OBJECT = "webhook_endpoint"
MAX_PATTERNS = 100

# --- shapes -------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "example": "wallet.created"},
        "minItems": 1,
        "maxItems": MAX_PATTERNS,
    }
)
class EventPatternsField(serializers.ListField):
    """Event type patterns; their content (catalog names, wildcards, the limits) is checked by
    contexts.webhooks, which names the item (`events[2]`, code unknown_event_type)."""

    child = serializers.CharField(trim_whitespace=False, allow_blank=True)


class WebhookEndpointCreateIn(StrictSerializer):
    """A new webhook endpoint: where to POST which events. Unknown fields are refused."""

    url = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="Absolute https URL (≤ 2048 characters) without credentials or #fragment; events are POSTed to it.",
    )
    events = EventPatternsField(
        help_text=(
            f"1-{MAX_PATTERNS} event types of the catalog (`wallet.created`), prefix wildcards (`wallet.*`, "
            '`qr.payment.*`) or `"*"` for every event. Duplicates are dropped.'
        )
    )
    description = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="Free text, ≤ 500 characters."
    )


class WebhookEndpointOut(serializers.Serializer):
    """A webhook endpoint of the tenant. Its signing secret is never shown here."""

    id = serializers.CharField(help_text="we_…")
    object = ObjectTypeField(OBJECT)
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField(), help_text="Event type patterns, as subscribed.")
    description = serializers.CharField()
    enabled = serializers.BooleanField(help_text="false: deliveries are paused.")
    created_at = serializers.DateTimeField()


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    """The endpoint just created, with its signing secret (the only time it is shown)."""

    secret = serializers.CharField(
        help_text=(
            "Signing secret (`whsec_…`) of the `FinFactory-Signature` header: "
            '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. Shown only in this response.'
        )
    )


class WebhookEndpointListOut(serializers.Serializer):
    """One page of endpoints, newest first."""

    data = WebhookEndpointOut(many=True)
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass back as `cursor` for the next page.")


class WebhookEndpointDeletedOut(serializers.Serializer):
    """The endpoint was deleted: nothing more is delivered to it."""

    id = serializers.CharField()
    object = ObjectTypeField(OBJECT)
    deleted = serializers.BooleanField(help_text="Always true.")


# --- views --------------------------------------------------------------------------------------


class WebhookEndpointListCreateView(APIView):
    required_scopes = {"GET": SCOPE, "POST": SCOPE}

    @extend_schema(
        operation_id="webhook_endpoints_list",
        tags=TAGS,
        summary="List webhook endpoints",
        description="The tenant's endpoints, newest first; pass `next_cursor` back as `cursor` for more.",
        parameters=[
            OpenApiParameter("limit", int, description=f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}", required=False),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page", required=False),
        ],
        responses=WebhookEndpointListOut,
    )
    def get(self, request):
        limit = parse_limit(request.query_params.get("limit"))
        page = api.endpoint_list(limit=limit, cursor=request.query_params.get("cursor") or None)
        return Response(
            {
                "data": WebhookEndpointOut(page.items, many=True).data,
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )

    @extend_schema(
        operation_id="webhook_endpoint_create",
        tags=TAGS,
        summary="Create a webhook endpoint",
        description=(
            "Registers a URL for the listed event types. The response carries the signing `secret`, "
            "shown only here: store it to verify the `FinFactory-Signature` of each delivery."
        ),
        request=WebhookEndpointCreateIn,
        responses={201: WebhookEndpointCreatedOut},
    )
    @idempotent(required=False)
    def post(self, request):
        payload = WebhookEndpointCreateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        created = api.endpoint_create(**payload.validated_data)
        body = dict(WebhookEndpointOut(created).data)
        body["secret"] = created.secret
        return Response(body, status=201)


class WebhookEndpointDetailView(APIView):
    required_scopes = {"GET": SCOPE, "DELETE": SCOPE}

    @extend_schema(
        operation_id="webhook_endpoint_get",
        tags=TAGS,
        summary="Get a webhook endpoint",
        responses=WebhookEndpointOut,
    )
    def get(self, request, endpoint_id: str):
        return Response(WebhookEndpointOut(api.endpoint_get(endpoint_id=endpoint_id)).data)

    @extend_schema(
        operation_id="webhook_endpoint_delete",
        tags=TAGS,
        summary="Delete a webhook endpoint",
        description="Nothing more is delivered to it; it disappears from the API (a second DELETE is 404).",
        responses={200: WebhookEndpointDeletedOut},
    )
    def delete(self, request, endpoint_id: str):
        deleted = api.endpoint_delete(endpoint_id=endpoint_id)
        return Response({"id": deleted.id, "object": OBJECT, "deleted": True})


# --- secret rotation ------------------------------------------------------------------------------


class WebhookSecretRotateIn(StrictSerializer):
    """How long the replaced secret keeps signing. Unknown fields are refused."""

    overlap_seconds = serializers.IntegerField(
        required=False,
        default=86400,
        help_text=(
            "0-604800 (7 days), default 86400: both secrets sign meanwhile (one `v1=` each); 0 ends the old one now."
        ),
    )


class WebhookSecretRotatedOut(serializers.Serializer):
    """The new signing secret (shown only here) and the end of the old one's overlap."""

    id = serializers.CharField(help_text="we_…")
    object = ObjectTypeField(OBJECT)
    secret = serializers.CharField(help_text="The new signing secret (`whsec_…`). Shown only in this response.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then deliveries are also signed with the previous secret; null: not at all."
    )


class WebhookEndpointRotateSecretView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        operation_id="webhook_endpoint_rotate_secret",
        tags=TAGS,
        summary="Rotate a webhook endpoint's signing secret",
        description=(
            "Issues a new secret, shown only in this response. During `overlap_seconds` each delivery's "
            "`FinFactory-Signature` carries a `v1=` for the new and for the previous secret, so receivers can switch "
            "without losing events."
        ),
        request=WebhookSecretRotateIn,
        responses={200: WebhookSecretRotatedOut},
    )
    @idempotent(required=False)
    def post(self, request, endpoint_id: str):
        payload = WebhookSecretRotateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        rotated = api.endpoint_secret_rotate(endpoint_id=endpoint_id, **payload.validated_data)
        body = {
            "id": rotated.endpoint_id, "secret": rotated.secret,
            "previous_secret_expires_at": rotated.previous_secret_expires_at,
        }  # fmt: skip
        return Response(WebhookSecretRotatedOut(body).data)


# --- deliveries -----------------------------------------------------------------------------------

DELIVERY_OBJECT = "webhook_delivery"


class WebhookDeliveryAttemptOut(serializers.Serializer):
    """One attempt of a delivery."""

    number = serializers.IntegerField(help_text="1, 2, … (also sent as `FinFactory-Delivery-Attempt`).")
    status_code = serializers.IntegerField(allow_null=True, help_text="The receiver's HTTP status; null: no answer.")
    error = serializers.CharField(help_text='Why there was no answer ("ConnectionError", "Timeout", "HostRefused: …").')
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The first 1 KB of the response body.")
    manual = serializers.BooleanField(help_text="A redelivery.")
    at = serializers.DateTimeField()


class WebhookDeliveryOut(serializers.Serializer):
    """One event sent to one endpoint, with its attempts."""

    id = serializers.CharField(help_text="whd_…")
    object = ObjectTypeField(DELIVERY_OBJECT)
    endpoint_id = serializers.CharField()
    event_id = serializers.CharField()
    event_type = serializers.CharField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    sequence = serializers.IntegerField(help_text="Per-aggregate sequence: deliveries may arrive out of order.")
    status = serializers.CharField(help_text="pending (attempts go on), delivered (a 2xx) or failed (gave up).")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempt_log = WebhookDeliveryAttemptOut(many=True)


class WebhookDeliveryListOut(serializers.Serializer):
    """One page of deliveries, newest first."""

    data = WebhookDeliveryOut(many=True)
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass back as `cursor` for the next page.")


class WebhookDeliveryListView(APIView):
    required_scopes = {"GET": SCOPE}

    @extend_schema(
        operation_id="webhook_deliveries_list",
        tags=TAGS,
        summary="List an endpoint's deliveries",
        description="Newest first, each with its attempts (status code, latency, response excerpt).",
        parameters=[
            OpenApiParameter("limit", int, description=f"1-{MAX_LIMIT}, default {DEFAULT_LIMIT}", required=False),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page", required=False),
        ],
        responses=WebhookDeliveryListOut,
    )
    def get(self, request, endpoint_id: str):
        limit = parse_limit(request.query_params.get("limit"))
        page = api.delivery_list(
            endpoint_id=endpoint_id, limit=limit, cursor=request.query_params.get("cursor") or None
        )
        return Response(
            {
                "data": WebhookDeliveryOut(page.items, many=True).data,
                "has_more": page.has_more,
                "next_cursor": page.next_cursor,
            }
        )


class WebhookRedeliverIn(StrictSerializer):
    """A redelivery takes no body: any field is refused (an ignored body could hide a typo)."""


class WebhookDeliveryRedeliverView(APIView):
    required_scopes = {"POST": SCOPE}

    @extend_schema(
        operation_id="webhook_delivery_redeliver",
        tags=TAGS,
        summary="Redeliver an event to an endpoint",
        description=(
            "Queues a new attempt now, whatever the delivery's status (pending, delivered or failed); the same "
            "body is sent, freshly signed. 409 `endpoint_disabled` if the endpoint is disabled."
        ),
        request=None,
        responses={202: WebhookDeliveryOut},
    )
    def post(self, request, endpoint_id: str, delivery_id: str):
        WebhookRedeliverIn(data=request.data).is_valid(raise_exception=True)
        delivery = api.delivery_redeliver(endpoint_id=endpoint_id, delivery_id=delivery_id)
        return Response(WebhookDeliveryOut(delivery).data, status=202)
