"""OpenAPI generation: every operation documents its auth, its problem+json errors and, where it
takes one, the Idempotency-Key header."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

from finfactory.api.problems import PROBLEM_CONTENT_TYPE
from finfactory.api.serializers import ProblemSerializer

_COMMON_ERRORS = ("400", "401", "403", "429", "500")


class ProblemAwareAutoSchema(AutoSchema):
    def _idempotency(self) -> dict | None:
        handler = getattr(self.view, self.method.lower(), None)
        return getattr(handler, "idempotency", None)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        idempotency = self._idempotency()
        if idempotency is not None:
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    required=idempotency["required"],
                    description=(
                        "1-255 characters, unique per operation. A replay returns the first response with "
                        "`Idempotent-Replayed: true`; reuse with another body → 422; while the first is "
                        "running → 409. Kept at least 24 h."
                    ),
                )
            )
        return parameters

    def _error_statuses(self) -> list[str]:
        statuses = list(_COMMON_ERRORS)
        if "{" in self.path:
            statuses.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += ["413", "415", "422"]
        if self._idempotency() is not None:
            statuses.append("409")
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    ProblemSerializer, status, media_types=[PROBLEM_CONTENT_TYPE]
                )
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "finfactory.apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Tenant API key: `Authorization: Bearer ff_test_…` (sandbox) or `ff_live_…`.",
        }


class PlatformKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "finfactory.apikeys.authentication.PlatformKeyAuthentication"
    name = "PlatformKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Platform operator key `ff_platform_…`."}
