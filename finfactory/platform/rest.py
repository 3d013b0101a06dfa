"""Platform API for operators: `/platform/v1/tenants` (platform keys, public schema)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from finfactory.api.serializers import ObjectTypeField, StrictSerializer
from finfactory.apikeys.authentication import PlatformKeyAuthentication
from finfactory.errors import NotFound
from finfactory.idempotency.services import idempotent
from finfactory.platform.services import tenant_activate, tenant_provision, tenant_suspend
from finfactory.tenancy.models import Tenant, TenantEnvironment


class TenantOut(serializers.ModelSerializer):
    id = serializers.CharField(source="slug")
    object = ObjectTypeField("tenant")

    class Meta:
        model = Tenant
        fields = [
            "id",
            "object",
            "slug",
            "name",
            "status",
            "environment",
            "product_template",
            "schema_name",
            "created_at",
            "suspended_at",
        ]


class TenantCreatedOut(TenantOut):
    api_key = serializers.CharField(help_text="The tenant's first API key. Shown only in this response.")

    class Meta(TenantOut.Meta):
        fields = [*TenantOut.Meta.fields, "api_key"]


class TenantCreateIn(StrictSerializer):
    slug = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    template = serializers.CharField(max_length=64, required=False, default="stored_value_wallet")
    environment = serializers.ChoiceField(
        choices=TenantEnvironment.choices,
        required=False,
        default="sandbox",
        help_text="sandbox: test money, ff_test_ keys; live: real money, ff_live_ keys.",
    )


class PlatformView(APIView):
    authentication_classes = [PlatformKeyAuthentication]


def _tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NotFound(f"No tenant {slug!r}.")
    return tenant


class TenantListCreateView(PlatformView, ListAPIView):
    required_scopes = {"GET": "tenants:read", "POST": "tenants:write"}
    serializer_class = TenantOut
    queryset = Tenant.objects.all()

    @extend_schema(request=TenantCreateIn, responses={201: TenantCreatedOut})
    @idempotent(required=False)
    def post(self, request):
        payload = TenantCreateIn(data=request.data)
        payload.is_valid(raise_exception=True)
        provisioned = tenant_provision(**payload.validated_data)
        data = TenantOut(provisioned.tenant).data
        data["api_key"] = provisioned.api_key.secret
        return Response(data, status=201)


class TenantDetailView(PlatformView):
    required_scopes = {"GET": "tenants:read"}

    @extend_schema(responses=TenantOut)
    def get(self, request, slug: str):
        return Response(TenantOut(_tenant(slug)).data)


class TenantSuspendView(PlatformView):
    required_scopes = {"POST": "tenants:write"}

    @extend_schema(request=None, responses=TenantOut)
    def post(self, request, slug: str):
        return Response(TenantOut(tenant_suspend(tenant=_tenant(slug))).data)


class TenantActivateView(PlatformView):
    required_scopes = {"POST": "tenants:write"}

    @extend_schema(request=None, responses=TenantOut)
    def post(self, request, slug: str):
        return Response(TenantOut(tenant_activate(tenant=_tenant(slug))).data)
