"""A URL configuration for tests only: views that fail in ways real views must never show."""

from django.urls import include, path
from rest_framework.views import APIView


class BoomView(APIView):
    required_scopes = {"GET": "keys:manage"}

    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("v1/boom", BoomView.as_view()),
    path("", include("config.urls_tenant")),
]
