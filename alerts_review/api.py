"""REST endpoints: the alert receivers, the alert list and classification, the monthly report."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue.fields import JSONParser
from morgue.models import Team

from . import selectors, services
from .models import Alert, AlertSource, Category, SourceKind
from .payloads import BadPayload, Incoming, Refused, parse_alertmanager, parse_generic, parse_nagios

if TYPE_CHECKING:
    # The stubs' name for what APIView.permission_classes holds (a class or an `A | B` of them).
    from rest_framework.permissions import _PermissionClass

ReceiptSerializer = inline_serializer(
    name="AlertReceipt",
    fields={
        "received": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "detail": serializers.CharField(required=False),
        "errors": serializers.ListField(child=serializers.DictField(), required=False),
    },
)

# A 400 from a receiver: the payload could not be read (`errors` names the
# field), or every alert in it was refused (a receipt whose `errors` lists them).
RefusalSerializer = inline_serializer(
    name="AlertRefusal",
    fields={
        "detail": serializers.CharField(),
        "errors": serializers.JSONField(required=False),
        "received": serializers.IntegerField(required=False),
        "created": serializers.IntegerField(required=False),
        "updated": serializers.IntegerField(required=False),
    },
)
RECEIVER_RESPONSES = {200: ReceiptSerializer, 400: RefusalSerializer}


def source_token(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() == "token" and key.strip():
        return key.strip()
    return request.query_params.get("token", "").strip()


class ReceiverMixin:
    """Receivers are called by alerting systems with a source token, never a person's login.

    No authenticators: DRF's session and token classes must neither demand a
    CSRF token nor mistake the source's token for a person's.
    """

    authentication_classes: Sequence[type[BaseAuthentication]] = []
    permission_classes: "Sequence[_PermissionClass]" = [permissions.AllowAny]
    kinds: tuple[str, ...] = ()

    def source(self, request) -> AlertSource:
        return services.authenticate_source(token=source_token(request), kinds=self.kinds)

    def answer(self, receipt: services.Receipt) -> Response:
        stored = receipt.received - len(receipt.refused)
        code = status.HTTP_400_BAD_REQUEST if receipt.refused and not stored else status.HTTP_200_OK
        return Response(receipt.as_dict(), status=code)

    def refuse(self, error: BadPayload) -> Response:
        body: dict = {"detail": error.message}
        if error.field:
            body["errors"] = {error.field: [error.message]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)


class AlertmanagerReceiver(ReceiverMixin, APIView):
    """Prometheus Alertmanager's webhook (version 4), and Grafana's webhook contact point."""

    kinds = (SourceKind.ALERTMANAGER, SourceKind.GRAFANA)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RECEIVER_RESPONSES)
    def post(self, request):
        source = self.source(request)
        try:
            items = parse_alertmanager(request.data)
        except BadPayload as error:
            return self.refuse(error)
        return self.answer(services.receive_alerts(items=items, source_name=source.kind, alert_source=source))


class NagiosReceiver(ReceiverMixin, APIView):
    """A Nagios notification command's macros, form-encoded or as JSON."""

    kinds = (SourceKind.NAGIOS,)
    # Nagios' notification commands post form fields; scripts may send JSON.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RECEIVER_RESPONSES)
    def post(self, request):
        source = self.source(request)
        fields = request.data.dict() if hasattr(request.data, "dict") else request.data
        try:
            incoming = parse_nagios(fields, zone=selectors.parse_zone(source.time_zone))
        except BadPayload as error:
            return self.refuse(error)
        items: list[Incoming | Refused] = [incoming] if incoming else []
        return self.answer(services.receive_alerts(items=items, source_name=source.kind, alert_source=source))


class AlertSerializer(fields.ModelSerializer):
    check = serializers.CharField(source="check_name")
    team: "serializers.SlugRelatedField[Team]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    paged: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    category: "serializers.SlugRelatedField[Category]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "source",
            "identity",
            "check",
            "host",
            "state",
            "severity",
            "summary",
            "labels",
            "fired_at",
            "resolved_at",
            "team",
            "paged",
            "out_of_hours",
            "category",
            "note",
            "woke_me_up",
        ]
        read_only_fields = fields


class AlertClassifySerializer(fields.Serializer):
    category = serializers.CharField(allow_null=True, allow_blank=True, required=False)
    note = serializers.CharField(allow_blank=True, required=False, max_length=10_000)
    woke_me_up = serializers.BooleanField(required=False)


class AlertFilterSerializer(serializers.Serializer):
    team = serializers.SlugField(required=False)
    # DRF's serializer metaclass moves declared fields off the class, so this
    # does not replace Field.source, whatever the stubs infer.
    source = serializers.CharField(required=False)  # type: ignore[assignment]
    check = serializers.CharField(required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    category = serializers.SlugField(required=False)
    unclassified = serializers.BooleanField(required=False, default=False)
    paged = serializers.CharField(required=False)


class AlertViewSet(
    ReceiverMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts: listed and classified by people; POSTed in Morgue's generic format by a source."""

    serializer_class = AlertSerializer
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]  # no PUT: PATCH classifies
    kinds = (SourceKind.GENERIC,)

    # The collection's POST is the generic receiver, authenticated by a source
    # token; everything else is for signed-in people.
    def _receiving(self) -> bool:
        request = getattr(self, "request", None)  # None while the OpenAPI schema is built
        return request is not None and request.method == "POST"

    def get_authenticators(self):
        if self._receiving():
            return []
        return [auth() for auth in self.settings.DEFAULT_AUTHENTICATION_CLASSES]

    def get_permissions(self):
        if self._receiving():
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def get_queryset(self):
        if self.action != "list":
            return Alert.objects.select_related("team", "paged", "category")
        filters = AlertFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.filter_alerts(**filters.validated_data)

    @extend_schema(parameters=[AlertFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RECEIVER_RESPONSES)
    def create(self, request):
        """Morgue's generic format: one alert, a list, or {"alerts": [...]}; see README."""
        source = self.source(request)
        try:
            items = parse_generic(request.data)
        except BadPayload as error:
            return self.refuse(error)
        return self.answer(services.receive_alerts(items=items, source_name=source.kind, alert_source=source))

    @extend_schema(request=AlertClassifySerializer, responses=AlertSerializer)
    def partial_update(self, request, *args, **kwargs):
        alert = self.get_object()
        form = AlertClassifySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        category = services.category_by_slug(data["category"]) if "category" in data else alert.category
        services.classify_alert(
            alert=alert,
            by=request.user,
            category=category,
            note=data.get("note"),
            woke_me_up=data.get("woke_me_up"),
        )
        return Response(AlertSerializer(alert).data)


class AlertReportView(APIView):
    """The monthly alerts report: figures, per check/category/person/day/hour, and recommendations."""

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("team", str, description="A team's slug; all teams when absent."),
            OpenApiParameter("tz", str, description="IANA zone the month is counted in; UTC by default."),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        month = selectors.parse_month(request.query_params.get("month"))
        zone = selectors.parse_zone(request.query_params.get("tz"))
        slug = request.query_params.get("team")
        team = get_object_or_404(Team, slug=slug) if slug else None
        return Response(selectors.monthly_report(month=month, team=team, zone=zone))
