from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue.auth import signed_in
from morgue.fields import JSONParser

from ..models import GraphSnapshot
from ..services.graph import add_graph_snapshot, pin_graph_snapshot
from .deploy import visible_incident


class GraphSnapshotSerializer(fields.ModelSerializer):
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = GraphSnapshot
        fields = [
            "id",
            "title",
            "url",
            "fetch_url",
            "status",
            "failure_reason",
            "image_url",
            "content_type",
            "size",
            "fetched_at",
            "pinned_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_image_url(self, snapshot: GraphSnapshot) -> str | None:
        if not snapshot.image:
            return None
        url = reverse("incidents:graph-image", args=[snapshot.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class GraphSnapshotWriteSerializer(fields.Serializer):
    title = serializers.CharField(max_length=200)
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    image = serializers.FileField(required=False, default=None, help_text="PNG, JPEG or GIF, at most 5 MB")
    pinned_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_url(self, url: str) -> str:
        if url and not url.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http and https URLs can be fetched.")
        return url

    def validate(self, data):
        if not data["url"] and data["image"] is None:
            raise serializers.ValidationError({"url": "Give the graph's URL or upload its image."})
        return data


class IncidentGraphsView(APIView):
    """An incident's graph snapshots; POST `{title, url}` (or a multipart `image`) adds one."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=GraphSnapshotSerializer(many=True))
    def get(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id)
        snapshots = incident.graph_snapshots.all()
        return Response(GraphSnapshotSerializer(snapshots, many=True, context={"request": request}).data)

    @extend_schema(request=GraphSnapshotWriteSerializer, responses={201: GraphSnapshotSerializer})
    def post(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id, to_edit_by=request.user)
        serializer = GraphSnapshotWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        snapshot = add_graph_snapshot(
            incident=incident,
            title=data["title"],
            url=data["url"],
            upload=data["image"],
            pinned_at=data["pinned_at"],
            user=signed_in(request),
        )
        return Response(
            GraphSnapshotSerializer(snapshot, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class GraphSnapshotPinSerializer(fields.Serializer):
    pinned_at = serializers.DateTimeField(allow_null=True)


class IncidentGraphView(APIView):
    """One graph snapshot: GET to poll its status, PATCH `{pinned_at}` to pin it to a timeline moment."""

    def _snapshot(self, incident_id: int, snapshot_id: int) -> GraphSnapshot:
        incident = visible_incident(incident_id)
        return get_object_or_404(incident.graph_snapshots.select_related("incident"), pk=snapshot_id)

    @extend_schema(responses=GraphSnapshotSerializer)
    def get(self, request: Request, incident_id: int, snapshot_id: int) -> Response:
        snapshot = self._snapshot(incident_id, snapshot_id)
        return Response(GraphSnapshotSerializer(snapshot, context={"request": request}).data)

    @extend_schema(request=GraphSnapshotPinSerializer, responses=GraphSnapshotSerializer)
    def patch(self, request: Request, incident_id: int, snapshot_id: int) -> Response:
        visible_incident(incident_id, to_edit_by=request.user)
        snapshot = self._snapshot(incident_id, snapshot_id)
        serializer = GraphSnapshotPinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        snapshot = pin_graph_snapshot(snapshot=snapshot, pinned_at=serializer.validated_data["pinned_at"])
        return Response(GraphSnapshotSerializer(snapshot, context={"request": request}).data)
