"""`/v1/api-keys`: a tenant manages its own keys (scope keys:manage). The secret is shown once."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from finfactory.api.serializers import ObjectTypeField, StrictSerializer
from finfactory.apikeys.models import ApiKey
from finfactory.apikeys.scopes import TENANT_SCOPES
from finfactory.apikeys.services import api_key_create, api_key_get, api_key_revoke, api_key_rotate
from finfactory.idempotency.services import idempotent


class ApiKeyOut(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id")
    object = ObjectTypeField("api_key")
    status = serializers.SerializerMethodField()
    replaced_by = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "object",
            "name",
            "mode",
            "prefix",
            "scopes",
            "status",
            "created_at",
            "expires_at",
            "revoked_at",
            "replaced_by",
        ]

    def get_status(self, key) -> str:
        return "revoked" if key.revoked_at else ("rotating" if key.expires_at else "active")

    def get_replaced_by(self, key) -> str | None:
        return key.replaced_by.public_id if key.replaced_by_id else None


class ApiKeyCreatedOut(ApiKeyOut):
    secret = serializers.CharField(help_text="The key. Shown only in this response.")

    class Meta(ApiKeyOut.Meta):
        fields = [*ApiKeyOut.Meta.fields, "secret"]


class ApiKeyCreateIn(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=sorted(TENANT_SCOPES)), min_length=1)


class ApiKeyRotateIn(StrictSerializer):
    grace_seconds = serializers.IntegerField(min_value=0, max_value=30 * 24 * 3600, required=False)


def _tenant_id(request) -> int:
    return request.auth.tenant_id


def _created(issued) -> dict:
    data = dict(ApiKeyOut(issued.key).data)
    data["secret"] = issued.secret
    return data


class ApiKeyListCreateView(ListAPIView):
    required_scopes = {"GET": "keys:manage", "POST": "keys:manage"}
    serializer_class = ApiKeyOut

    def get_queryset(self):
        return ApiKey.objects.filter(tenant_id=_tenant_id(self.request)).select_related("replaced_by")

    @extend_schema(request=ApiKeyCreateIn, responses={201: ApiKeyCreatedOut})
    @idempotent(required=False)
    def post(self, request):
        payload = ApiKeyCreateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        issued = api_key_create(tenant=request.tenant, mode=request.auth.mode, **payload.validated_data)
        return Response(_created(issued), status=201)


class ApiKeyDetailView(APIView):
    required_scopes = {"GET": "keys:manage"}

    @extend_schema(responses=ApiKeyOut)
    def get(self, request, key_id: str):
        return Response(ApiKeyOut(api_key_get(public_id=key_id, tenant=_tenant_id(request))).data)


class ApiKeyRevokeIn(StrictSerializer):
    pass


class ApiKeyRevokeView(APIView):
    required_scopes = {"POST": "keys:manage"}

    @extend_schema(request=None, responses=ApiKeyOut)
    @idempotent(required=False)
    def post(self, request, key_id: str):
        # No fields; a body, if sent, must be an empty JSON object (garbage is not ignored).
        ApiKeyRevokeIn(data=request.data or {}).is_valid(raise_exception=True)
        key = api_key_get(public_id=key_id, tenant=_tenant_id(request))
        return Response(ApiKeyOut(api_key_revoke(key=key)).data)


class ApiKeyRotateView(APIView):
    required_scopes = {"POST": "keys:manage"}

    @extend_schema(request=ApiKeyRotateIn, responses={201: ApiKeyCreatedOut})
    @idempotent(required=False)
    def post(self, request, key_id: str):
        payload = ApiKeyRotateIn(data=request.data or {})
        payload.is_valid(raise_exception=True)
        key = api_key_get(public_id=key_id, tenant=_tenant_id(request))
        issued = api_key_rotate(key=key, grace_seconds=payload.validated_data.get("grace_seconds"))
        return Response(_created(issued), status=201)
