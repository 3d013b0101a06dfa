"""Views for tests only: a money-like operation that requires a key, and one that fails once."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from finfactory.apikeys.services import api_key_create
from finfactory.idempotency.services import idempotent

CALLS = {"flaky": 0}


class RequiredKeyView(APIView):
    required_scopes = {"POST": "keys:manage"}

    @idempotent(required=True)
    def post(self, request):
        issued = api_key_create(tenant=request.tenant, name=request.data["name"], scopes=["wallets:read"])
        return Response({"id": issued.key.public_id}, status=201)


class FlakyView(APIView):
    """Writes, then fails with a 5xx the first time; succeeds the second time."""

    required_scopes = {"POST": "keys:manage"}

    @idempotent(required=True)
    def post(self, request):
        CALLS["flaky"] += 1
        issued = api_key_create(tenant=request.tenant, name=f"flaky-{CALLS['flaky']}", scopes=["wallets:read"])
        if CALLS["flaky"] == 1:
            raise RuntimeError("dependency exploded")
        return Response({"id": issued.key.public_id, "attempt": CALLS["flaky"]}, status=201)


urlpatterns = [
    path("v1/test-required", RequiredKeyView.as_view()),
    path("v1/test-flaky", FlakyView.as_view()),
    path("", include("config.urls_tenant")),
]
