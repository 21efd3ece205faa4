"""REST endpoints: the alert receivers, the alert list and classification, the monthly report, paging."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue import permissions as rules
from morgue.auth import signed_in
from morgue.fields import JSONParser
from morgue.models import Team
from morgue.rest import KeysetPagination
from oncall import api as oncall_api

from . import paging, paging_rules, selectors, services
from .models import Alert, AlertSource, Category, MaintenanceWindow, SourceKind
from .payloads import (
    BadPayload,
    Incoming,
    Refused,
    parse_alertmanager,
    parse_generic,
    parse_nagios,
    truncated_alerts,
)

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


# `Token` is Morgue's own scheme; `Bearer` is what Alertmanager's http_config
# `authorization` sends by default and what Grafana's webhook contact point sends.
TOKEN_SCHEMES = ("token", "bearer")


def source_token(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() in TOKEN_SCHEMES and key.strip():
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

    def too_big(self, request) -> Response | None:
        """A 413 naming the limit for a body over DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads JSON unchecked)."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is None or length <= limit:
            return None
        return Response(
            {
                "detail": f"The body is {length} bytes; this Morgue takes at most {limit} "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE). Raise it, or have the sender send smaller groups."
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )

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
        if response := self.too_big(request):
            return response
        try:
            items = parse_alertmanager(request.data, received_at=timezone.now())
        except BadPayload as error:
            return self.refuse(error)
        group_key = request.data.get("groupKey")
        receipt = services.receive_alerts(
            items=items,
            source_name=source.kind,
            alert_source=source,
            truncated=truncated_alerts(request.data),
            group_key=group_key if isinstance(group_key, str) else "",
        )
        return self.answer(receipt)


class NagiosReceiver(ReceiverMixin, APIView):
    """A Nagios or Icinga 2 notification command's macros, form-encoded or as JSON."""

    kinds = (SourceKind.NAGIOS,)
    # Nagios' notification commands post form fields; scripts may send JSON.
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses=RECEIVER_RESPONSES)
    def post(self, request):
        source = self.source(request)
        if response := self.too_big(request):
            return response
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
            "is_test",
            "team",
            "paged",
            "out_of_hours",
            "category",
            "note",
            "woke_me_up",
            "paging",
            "page",
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


class AlertCursorPagination(KeysetPagination):
    """Newest first, a page at a time, each page found from the last one's (fired_at, id).

    A million alerts are never counted: the page after a cursor is read off
    the fired_at index, as fast on the last page as on the first.
    """

    position = "fired_at"
    noun = "Alerts"


class AlertViewSet(
    ReceiverMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts: listed and classified by people; POSTed in Morgue's generic format by a source."""

    serializer_class = AlertSerializer
    pagination_class = AlertCursorPagination
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
        return [rules.RulePermission()]

    # PATCH classifies: the alert's team's responders, or the person it paged.
    object_rules = {"*": "classify"}

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
        if response := self.too_big(request):
            return response
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


REPORT_ROWS = 50
REPORT_MAX_ROWS = 1000


class AlertReportView(APIView):
    """The monthly alerts report: figures, per check/category/person/day/hour, and recommendations."""

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, required=True, description="YYYY-MM"),
            OpenApiParameter("team", str, description="A team's slug; all teams when absent."),
            OpenApiParameter("tz", str, description="IANA zone the month is counted in; UTC by default."),
            OpenApiParameter(
                "rows",
                str,
                description=(
                    f"How many checks (`by_check`), people (`by_person`) and recommendations to list, "
                    f"1 to {REPORT_MAX_ROWS}, or `all`; {REPORT_ROWS} by default. The rest are summed in "
                    "`other_checks` and `other_people` and counted in `other_recommendations` (null when "
                    "none was left out)."
                ),
            ),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        month = selectors.parse_month(request.query_params.get("month"))
        zone = selectors.parse_zone(request.query_params.get("tz"))
        limit = _report_rows(request.query_params.get("rows"))
        slug = request.query_params.get("team")
        team = get_object_or_404(Team, slug=slug) if slug else None
        return Response(selectors.monthly_report(month=month, team=team, zone=zone, limit=limit))


def _report_rows(value: str | None) -> int | None:
    if value is None:
        return REPORT_ROWS
    if value == "all":
        return None
    if not value.isdigit() or not 1 <= int(value) <= REPORT_MAX_ROWS:
        raise ValidationError({"rows": [f"A whole number from 1 to {REPORT_MAX_ROWS}, or `all`."]})
    return int(value)


def without_slash(view: type[APIView], **actions: str):
    """A receiver's view for its URL without the trailing slash, left out of the API schema.

    Alertmanager and Grafana post to the URL exactly as configured; APPEND_SLASH
    would answer a 301 that they follow as a GET (and drop the alerts), or a
    500 with DEBUG.
    """
    twin: Any = extend_schema(exclude=True)(type(f"{view.__name__}WithoutSlash", (view,), {}))
    return twin.as_view(actions) if actions else twin.as_view()


# --- Paging: policies, maintenance windows, pages with their alerts ------------------------------


class PagingRuleSerializer(fields.Serializer):
    match = serializers.ListField(
        child=serializers.CharField(allow_blank=False),
        allow_empty=True,
        help_text="Matchers that must all hold: label=value, label!=value, label=~regex, label!~regex.",
    )
    action = serializers.ChoiceField(choices=paging_rules.ACTIONS)

    def validate_match(self, value: list[str]) -> list[str]:
        try:
            return [str(paging_rules.parse_matcher(text)) for text in value]
        except paging_rules.RuleError as error:
            raise serializers.ValidationError(str(error)) from None


class PagingPolicySerializer(fields.Serializer):
    team = serializers.CharField(source="team.slug", read_only=True)
    rules = PagingRuleSerializer(many=True, help_text="In order; the first rule that matches decides.")
    grouping_window_minutes = serializers.IntegerField(min_value=0, max_value=24 * 60, required=False)
    default_action = serializers.SerializerMethodField()

    def get_default_action(self, policy) -> str:
        return "record"

    def to_internal_value(self, data):
        # A rule's error is named by its place, rules[2].match, so the sentence says which rule.
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            rules = detail.get("rules") if isinstance(detail, dict) else None
            if isinstance(detail, dict) and isinstance(rules, dict | list):
                # DRF reports a list's items by index, in a dict or a list.
                problems = rules.items() if isinstance(rules, dict) else enumerate(rules)
                named = {key: value for key, value in detail.items() if key != "rules"}
                for index, problem in problems:
                    number = int(index) + 1
                    if isinstance(problem, dict):
                        named.update({f"rules[{number}].{key}": value for key, value in problem.items()})
                    elif problem:
                        named[f"rules[{number}]"] = problem
                detail = named or detail
            raise serializers.ValidationError(detail) from None


class PagingPolicyView(APIView):
    """A team's paging policy: which alerts page (the first matching rule wins); the rest are recorded."""

    @extend_schema(responses=PagingPolicySerializer)
    def get(self, request, slug: str):
        team = get_object_or_404(Team, slug=slug)
        return Response(PagingPolicySerializer(paging.policy_for(team)).data)

    @extend_schema(request=PagingPolicySerializer, responses=PagingPolicySerializer)
    def put(self, request, slug: str):
        team = get_object_or_404(Team, slug=slug)
        rules.require(request.user, "edit", team, kind="pagingpolicy")
        serializer = PagingPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = paging.update_policy(
            team=team,
            rules=serializer.validated_data["rules"],
            grouping_window_minutes=serializer.validated_data.get("grouping_window_minutes"),
        )
        return Response(PagingPolicySerializer(policy).data)


class MaintenanceWindowSerializer(fields.ModelSerializer):
    team: "serializers.SlugRelatedField[Team]" = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all()
    )
    created_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "team", "check_pattern", "starts_at", "ends_at", "reason", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].error_messages["does_not_exist"] = "There is no team {value}."

    def validate_team(self, team: Team) -> Team:
        # Checked as the team is read, so someone who may not plan its maintenance hears that first.
        request = self.context.get("request")
        if request is not None:
            rules.require(request.user, "edit", team, kind="maintenancewindow")
        return team

    def validate_reason(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Say why: the reason shows beside every alert it holds back.")
        return value.strip()

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "A maintenance window ends after it starts."})
        return attrs


class MaintenanceWindowViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Spans when a team's alerts on matching checks are stored and never page."""

    serializer_class = MaintenanceWindowSerializer
    queryset = MaintenanceWindow.objects.select_related("team", "created_by")
    permission_classes = [rules.RulePermission]
    object_rules = {"*": "edit"}

    def create(self, request, *args, **kwargs):
        # Whether they manage any team first, so someone who manages none hears that rather than a field.
        rules.require(request.user, "edit", None, kind="maintenancewindow")
        return super().create(request, *args, **kwargs)

    @extend_schema(parameters=[OpenApiParameter("team", str, description="A team's slug.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        windows = super().get_queryset()
        team = self.request.query_params.get("team")
        return windows.filter(team__slug=team) if team else windows

    def perform_create(self, serializer):
        team = serializer.validated_data["team"]
        user = signed_in(self.request)
        rules.require(user, "edit", team, kind="maintenancewindow")
        serializer.instance = paging.create_maintenance_window(created_by=user, **serializer.validated_data)

    @extend_schema(request=None, responses=MaintenanceWindowSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        window = self.get_object()
        return Response(MaintenanceWindowSerializer(paging.end_maintenance_window(window=window)).data)


class PageDetailSerializer(oncall_api.PageSerializer):
    alerts = AlertSerializer(
        many=True, read_only=True, help_text="The alerts that opened the page or joined it."
    )

    class Meta(oncall_api.PageSerializer.Meta):
        fields = [*oncall_api.PageSerializer.Meta.fields, "alerts"]


class PageViewSet(oncall_api.PageViewSet):
    """Page any team; the page escalates L1 → L2 → fallback team until acknowledged or resolved."""

    serializer_class = PageDetailSerializer
    queryset = oncall_api.PageViewSet.queryset.prefetch_related(
        Prefetch("alerts", queryset=Alert.objects.select_related("team", "paged", "category"))
    )
