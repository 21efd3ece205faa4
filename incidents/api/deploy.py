from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields, permissions
from morgue.auth import signed_in
from morgue.rest import KeysetPagination
from morgue.validators import validate_plausible_instant

from ..models import Deploy, DeployLink, Incident
from ..selectors import deploy as selectors
from ..services.deploy import link_deploy, record_deploy, unlink_deploy


class DeploySerializer(fields.ModelSerializer):
    duration_seconds = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Deploy
        fields = [
            "id",
            "stack",
            "environment",
            "deployer",
            "old_revision",
            "new_revision",
            "started_at",
            "finished_at",
            "duration_seconds",
            "diff_url",
            "log_url",
            "message",
        ]
        read_only_fields = fields


class DeployWriteSerializer(fields.Serializer):
    stack = serializers.SlugField(max_length=50)
    environment = serializers.SlugField(max_length=50)
    deployer = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    old_revision = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    new_revision = serializers.CharField(max_length=100)
    started_at = serializers.DateTimeField(validators=[validate_plausible_instant])
    finished_at = serializers.DateTimeField(
        validators=[validate_plausible_instant], required=False, allow_null=True, default=None
    )
    diff_url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    log_url = serializers.URLField(max_length=2000, required=False, allow_blank=True, default="")
    message = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["finished_at"] is not None and data["finished_at"] < data["started_at"]:
            raise serializers.ValidationError({"finished_at": "A deploy cannot finish before it started."})
        return data


class DeployFilterSerializer(serializers.Serializer):
    stack = serializers.CharField(required=False, default="")
    environment = serializers.CharField(required=False, default="")
    deployer = serializers.CharField(required=False, default="")
    since = serializers.DateTimeField(required=False, default=None)
    until = serializers.DateTimeField(required=False, default=None)


class DeployPagination(KeysetPagination):
    """The log grows by every deploy: paged by cursor on started_at, never counted."""

    position = "started_at"
    noun = "Deploys"


class DeployViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The deploy log. POST records a deploy; reporting the same deploy again answers 200 with it."""

    serializer_class = DeploySerializer
    queryset = Deploy.objects.all()
    pagination_class = DeployPagination

    def get_queryset(self):
        if self.action != "list":
            return Deploy.objects.all()
        filters = DeployFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.deploy_log(**filters.validated_data)

    @extend_schema(
        parameters=[
            OpenApiParameter("stack", str),
            OpenApiParameter("environment", str),
            OpenApiParameter("deployer", str),
            OpenApiParameter("since", str, description="ISO 8601; deploys started at or after"),
            OpenApiParameter("until", str, description="ISO 8601; deploys started before"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=DeployWriteSerializer, responses={200: DeploySerializer, 201: DeploySerializer})
    def create(self, request: Request) -> Response:
        permissions.require(request.user, "record", None, kind="deploy")
        serializer = DeployWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deploy, created = record_deploy(**serializer.validated_data)
        return Response(
            DeploySerializer(deploy).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def visible_incident(incident_id: int, *, to_edit_by=None) -> Incident:
    """The incident, unless deleted; `to_edit_by`: refused unless that person may edit it."""
    incident = get_object_or_404(Incident.objects.visible(), pk=incident_id)
    if to_edit_by is not None:
        permissions.require(to_edit_by, "edit", incident)
    return incident


class SuggestedDeploysQuerySerializer(serializers.Serializer):
    minutes = serializers.IntegerField(required=False, min_value=1, max_value=24 * 60, default=None)


class SuggestedDeploysView(APIView):
    """Production deploys in the window before the incident, newest first."""

    @extend_schema(
        parameters=[OpenApiParameter("minutes", int, description="how far before impact to look (60)")],
        responses=DeploySerializer(many=True),
    )
    def get(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id)
        query = SuggestedDeploysQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        deploys = selectors.suggested_deploys(incident=incident, minutes=query.validated_data["minutes"])
        return Response(DeploySerializer(deploys, many=True).data)


class DeployLinkWriteSerializer(fields.Serializer):
    deploy = serializers.PrimaryKeyRelatedField(queryset=Deploy.objects.all())


class IncidentDeploysView(APIView):
    """The deploys linked to an incident; POST `{"deploy": id}` links one."""

    @extend_schema(responses=DeploySerializer(many=True))
    def get(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id)
        return Response(DeploySerializer(selectors.linked_deploys(incident=incident), many=True).data)

    @extend_schema(
        request=DeployLinkWriteSerializer, responses={201: DeploySerializer, 200: DeploySerializer}
    )
    def post(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id, to_edit_by=request.user)
        serializer = DeployLinkWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deploy = serializer.validated_data["deploy"]
        already = DeployLink.objects.filter(incident=incident, deploy=deploy).exists()
        link_deploy(incident=incident, deploy=deploy, user=signed_in(request))
        return Response(
            DeploySerializer(deploy).data, status=status.HTTP_200_OK if already else status.HTTP_201_CREATED
        )


class IncidentDeployView(APIView):
    """DELETE unlinks one deploy from the incident."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, incident_id: int, deploy_id: int) -> Response:
        incident = visible_incident(incident_id, to_edit_by=request.user)
        deploy = get_object_or_404(Deploy, pk=deploy_id)
        unlink_deploy(incident=incident, deploy=deploy)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeployMetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False, default=None)
    until = serializers.DateTimeField(required=False, default=None)

    def validate(self, data):
        if data["since"] and data["until"] and data["until"] <= data["since"]:
            raise serializers.ValidationError({"until": "The end of the period must be after its start."})
        return data


class DeployMetricsSerializer(fields.Serializer):
    deploys = serializers.IntegerField()
    deploy_related_incidents = serializers.IntegerField()
    time_to_detect_median_seconds = serializers.FloatField(allow_null=True)
    time_to_resolve_median_seconds = serializers.FloatField(allow_null=True)


class DeployMetricsView(APIView):
    """Production deploys and deploy-related incidents in a period, with their median TTD and TTR."""

    @extend_schema(
        parameters=[OpenApiParameter("since", str), OpenApiParameter("until", str)],
        responses=DeployMetricsSerializer,
    )
    def get(self, request: Request) -> Response:
        query = DeployMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(DeployMetricsSerializer(selectors.deploy_metrics(**query.validated_data)).data)
