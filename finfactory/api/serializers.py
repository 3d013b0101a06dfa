"""Serializer building blocks: unknown fields are errors, integers are integers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare (a typo must not be silently ignored)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - {name for name, f in self.fields.items() if not f.read_only})
            if unknown:
                raise serializers.ValidationError(
                    {name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")] for name in unknown}
                )
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "100", 100.0 and true are refused rather than coerced."""

    default_error_messages = {"invalid": "A JSON integer is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class ObjectTypeField(serializers.Field):
    """The `object` member of every resource ("customer", "wallet", …): a constant per serializer."""

    def __init__(self, name: str, **kwargs):
        self.object_name = name
        kwargs.update(source="*", read_only=True, help_text=f'Always "{name}".')
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return self.object_name


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem document, as every error response of the API."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    request_id = serializers.CharField()
    errors = ProblemFieldErrorSerializer(many=True, required=False)
