"""`GET /v1/events`: the tenant's event log (scope events:read), newest first."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from finfactory.api.serializers import ObjectTypeField
from finfactory.errors import NotFound
from finfactory.outbox.models import OutboxEvent


class EventOut(serializers.ModelSerializer):
    id = serializers.CharField(source="event_id")
    object = ObjectTypeField("event")

    class Meta:
        model = OutboxEvent
        fields = [
            "id",
            "object",
            "type",
            "version",
            "occurred_at",
            "aggregate_type",
            "aggregate_id",
            "sequence",
            "data",
            "request_id",
        ]


@extend_schema(parameters=[OpenApiParameter("type", str, description="Only events of this type, e.g. wallet.created")])
class EventListView(ListAPIView):
    required_scopes = {"GET": "events:read"}
    serializer_class = EventOut
    cursor_field = "occurred_at"

    def get_queryset(self):
        queryset = OutboxEvent.objects.all()
        event_type = self.request.query_params.get("type")
        return queryset.filter(type=event_type) if event_type else queryset


class EventDetailView(RetrieveAPIView):
    required_scopes = {"GET": "events:read"}
    serializer_class = EventOut

    def get_object(self):
        event = OutboxEvent.objects.filter(event_id=self.kwargs["event_id"]).first()
        if event is None:
            raise NotFound(f"No event {self.kwargs['event_id']}.")
        return event
