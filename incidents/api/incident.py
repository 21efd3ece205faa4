"""The incidents API: list and search, create, edit with a version, timeline, review meeting, the check."""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.api.running import RunningActions
from incidents.models import (
    POSTMORTEM_FIELDS,
    EventKind,
    Impact,
    Incident,
    ProblemType,
    ReviewMeeting,
    Status,
    TimelineEvent,
)
from incidents.models.incident import severity_choices
from incidents.selectors import incident as selectors
from incidents.services import incident as services
from incidents.services import review as review_services
from incidents.services import running as running_services
from morgue import fields, permissions
from morgue.markdown import render_markdown
from morgue.models import Team
from morgue.validators import validate_plausible_instant
from oncall.models import Page

# A postmortem section larger than this is refused with 400 (whole request
# bodies over DATA_UPLOAD_MAX_MEMORY_SIZE, 2 MB, get 413 before this).
MAX_SECTION_CHARS = 100_000
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
TIME_FIELDS = services.TIME_FIELDS
TIME_ERROR = "Give a time in ISO 8601 with an offset, such as 2026-03-01T14:05:00+01:00."
SEVERITY_ERROR = "Severity must be a whole number from 1 (the worst) to 5."


class IncidentSerializer(fields.ModelSerializer):
    url = serializers.SerializerMethodField()
    severity_label = serializers.CharField(read_only=True)
    tags = serializers.SerializerMethodField()
    team: "serializers.SlugRelatedField[Team]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    facilitator: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    # Declared so the schema says they may be empty: DRF drops `allow_blank` from read-only model fields.
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, allow_blank=True, read_only=True)
    impact_type = serializers.ChoiceField(choices=Impact.choices, allow_blank=True, read_only=True)
    time_to_detect_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    time_to_resolve_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    impact_seconds = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "url",
            "version",
            "title",
            "severity",
            "severity_label",
            "status",
            "tags",
            "team",
            "affected_service",
            "problem_type",
            "impact_type",
            "facilitator",
            *TIME_FIELDS,
            *services.SOURCE_FIELDS,
            "time_to_detect_seconds",
            "time_to_resolve_seconds",
            "impact_seconds",
            *POSTMORTEM_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, incident: Incident) -> str:
        request = self.context.get("request")
        path = incident.get_absolute_url()
        return request.build_absolute_uri(path) if request else path

    def get_tags(self, incident: Incident) -> list[str]:
        return incident.tag_names


class IncidentListSerializer(IncidentSerializer):
    """A list row: everything but the postmortem text (fetch one incident for that)."""

    class Meta(IncidentSerializer.Meta):
        fields = [name for name in IncidentSerializer.Meta.fields if name not in POSTMORTEM_FIELDS[1:]]
        read_only_fields = fields


class IncidentWriteSerializer(fields.Serializer):
    """Create or edit; on PATCH only the fields sent change, and `version` is required."""

    version = serializers.IntegerField(min_value=1, required=False)
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(
        choices=severity_choices(),
        required=False,
        error_messages={"invalid_choice": SEVERITY_ERROR},
    )
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=30)
    team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    affected_service = serializers.CharField(max_length=100, required=False, allow_blank=True)
    problem_type = serializers.ChoiceField(choices=ProblemType.choices, required=False, allow_blank=True)
    impact_type = serializers.ChoiceField(choices=Impact.choices, required=False, allow_blank=True)
    facilitator = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    # Declaring needs only a title, a severity and a team: impact and detection default to now.
    impact_started_at = serializers.DateTimeField(
        validators=[validate_plausible_instant], error_messages={"invalid": TIME_ERROR}, required=False
    )
    detected_at = serializers.DateTimeField(
        validators=[validate_plausible_instant], error_messages={"invalid": TIME_ERROR}, required=False
    )
    acknowledged_at = serializers.DateTimeField(
        validators=[validate_plausible_instant],
        required=False,
        allow_null=True,
        error_messages={"invalid": TIME_ERROR},
    )
    status_posted_at = serializers.DateTimeField(
        validators=[validate_plausible_instant],
        required=False,
        allow_null=True,
        error_messages={"invalid": TIME_ERROR},
    )
    mitigated_at = serializers.DateTimeField(
        validators=[validate_plausible_instant],
        required=False,
        allow_null=True,
        error_messages={"invalid": TIME_ERROR},
    )
    resolved_at = serializers.DateTimeField(
        validators=[validate_plausible_instant],
        required=False,
        allow_null=True,
        error_messages={"invalid": TIME_ERROR},
    )
    impact_started_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    detected_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    acknowledged_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    status_posted_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mitigated_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    resolved_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tldr = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    what_happened = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    why_surprised = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    went_well = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    got_lucky = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    contributing_factors = serializers.CharField(
        max_length=MAX_SECTION_CHARS, required=False, allow_blank=True, trim_whitespace=False
    )
    page_team = serializers.BooleanField(
        required=False, write_only=True, help_text="On create: page the team now (its current on-call)."
    )
    page = serializers.PrimaryKeyRelatedField(
        queryset=Page.objects.all(),
        required=False,
        write_only=True,
        help_text="On create: the page this incident was declared from (they link both ways).",
    )

    def validate_tags(self, value: list[str]) -> list[str]:
        bad = [tag for tag in value if not TAG_PATTERN.match(tag)]
        if bad:
            raise serializers.ValidationError(
                f"Tags are lowercase letters, digits and hyphens, starting with a letter or digit; "
                f"not {', '.join(repr(tag) for tag in bad[:5])}."
            )
        return value

    def validate(self, attrs):
        if self.partial and "version" not in attrs:
            raise serializers.ValidationError(
                {"version": ["Send the version you edited (from GET) to save."]}
            )
        if self.partial and ({"page", "page_team"} & set(attrs)):
            name = "page" if "page" in attrs else "page_team"
            raise serializers.ValidationError(
                {name: ["Only a new incident is declared from a page or pages a team."]}
            )
        if attrs.get("page_team") and not attrs.get("team"):
            raise serializers.ValidationError({"team": ["Choose the team to page."]})
        # Out-of-order times are checked against the merged state, naming both fields.
        merged = (
            Incident(**{name: getattr(self.instance, name) for name in TIME_FIELDS})
            if self.instance
            else Incident()
        )
        for name in TIME_FIELDS:
            if name in attrs:
                setattr(merged, name, attrs[name])
        errors = merged.order_errors()
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TimelineEventSerializer(fields.ModelSerializer):
    # Empty for events imported from a chat log (see `speaker`) or whose author left.
    author: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    occurred_at = serializers.DateTimeField(
        validators=[validate_plausible_instant], error_messages={"invalid": TIME_ERROR}
    )
    kind = serializers.ChoiceField(choices=EventKind.choices, default=EventKind.NOTE)
    text = serializers.CharField(max_length=10_000)

    class Meta:
        model = TimelineEvent
        fields = ["id", "occurred_at", "kind", "text", "link", "author", "speaker", "starred"]
        read_only_fields = ["id", "author", "speaker", "starred"]


class PostmortemCheckSerializer(fields.Serializer):
    text = serializers.CharField(max_length=MAX_SECTION_CHARS, allow_blank=True, trim_whitespace=False)


class PostmortemFindingSerializer(fields.Serializer):
    phrase = serializers.CharField()
    matched = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    line = serializers.IntegerField()
    reason = serializers.CharField()
    suggestion = serializers.CharField()


class PostmortemCheckResultSerializer(fields.Serializer):
    html = serializers.CharField()
    findings = PostmortemFindingSerializer(many=True)


class IncidentViewSet(
    RunningActions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents and their postmortems. PATCH needs the `version` read.

    A PATCH on a stale version is merged field by field (incidents.merging): it
    answers 200 when it changes only fields the newer saves did not, else 409
    listing the fields both changed under `conflicts`, with nothing saved.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    permission_classes = [permissions.RulePermission]
    # The verb each operation checks on its incident (morgue.permissions.RULES); "*": any other write.
    # Following an incident (subscription) is open to everyone who may read it.
    object_rules = {"destroy": "delete", "restore": "restore", "subscription": "", "*": "edit"}

    def get_queryset(self):
        if self.action == "list":
            return selectors.incident_list(filters=self._filters())
        queryset = Incident.objects.select_related("team", "facilitator").prefetch_related("tags")
        if self.action == "restore":
            return queryset
        return queryset.visible()

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return IncidentWriteSerializer
        if self.action == "list":
            return IncidentListSerializer
        if self.action == "timeline":
            return TimelineEventSerializer
        if self.action == "check":
            return PostmortemCheckSerializer
        return IncidentSerializer

    def count_for_list(self) -> int:
        """The list's length for the paginator (morgue.rest.Pagination), mostly from kept counts."""
        return selectors.count_incidents(filters=self._filters())

    def _filters(self) -> selectors.IncidentFilters:
        params = self.request.query_params
        form = IncidentFilterSerializer(data=params)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        return selectors.IncidentFilters(
            search=data.get("search", ""),
            status=data.get("status", ""),
            severity=data.get("severity"),
            team=data.get("team", ""),
            tag=data.get("tag", ""),
            started_after=data.get("started_after"),
            started_before=data.get("started_before"),
        )

    def _respond(self, incident: Incident, status_code: int = status.HTTP_200_OK) -> Response:
        incident = (
            Incident.objects.select_related("team", "facilitator")
            .prefetch_related("tags")
            .get(pk=incident.pk)
        )
        return Response(
            IncidentSerializer(incident, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Words in the title or postmortem (ranked)."),
            OpenApiParameter("status", str, enum=Status.values),
            OpenApiParameter("severity", int),
            OpenApiParameter("team", str, description="Team slug."),
            OpenApiParameter("tag", str),
            OpenApiParameter("started_after", OpenApiTypes.DATETIME),
            OpenApiParameter("started_before", OpenApiTypes.DATETIME),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=IncidentWriteSerializer, responses={201: IncidentSerializer})
    def create(self, request, *args, **kwargs):
        # Whether they may declare anywhere first, so a viewer hears that rather than about a field.
        permissions.require(request.user, "declare", None, kind="incident")
        serializer = IncidentWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        incident = running_services.declare_incident(
            by=request.user,
            title=data.pop("title"),
            severity=data.pop("severity", 3),
            team=data.pop("team", None),
            page=data.pop("page", None),
            page_the_team=data.pop("page_team", False),
            **data,
        )
        return self._respond(incident, status.HTTP_201_CREATED)

    @extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer})
    def partial_update(self, request, *args, **kwargs):
        incident = self.get_object()
        serializer = IncidentWriteSerializer(incident, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        version = changes.pop("version")
        incident = services.update_incident(
            incident=incident, by=request.user, version=version, changes=changes
        )
        return self._respond(incident)

    def destroy(self, request, *args, **kwargs):
        services.delete_incident(incident=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        incident = services.restore_incident(incident=self.get_object(), by=request.user)
        return self._respond(incident)

    @extend_schema(responses={200: TimelineEventSerializer(many=True), 201: TimelineEventSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def timeline(self, request, pk=None):
        incident = self.get_object()
        if request.method == "GET":
            events = incident.events.select_related("author")
            return Response(TimelineEventSerializer(events, many=True).data)
        serializer = TimelineEventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.add_timeline_event(incident=incident, by=request.user, **serializer.validated_data)
        return Response(TimelineEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/calendar"): OpenApiTypes.BINARY})
    def review_ics(self, request, pk=None):
        incident = self.get_object()
        try:
            meeting = ReviewMeeting.objects.select_related("incident", "facilitator").get(incident=incident)
        except ReviewMeeting.DoesNotExist:
            raise Http404("No review meeting is scheduled for this incident.") from None
        response = HttpResponse(
            review_services.invitation_ics(meeting=meeting),
            content_type="text/calendar; method=REQUEST; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-review.ics"'
        return response

    @extend_schema(request=None, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"], url_path="unschedule-review")
    def unschedule_review(self, request, pk=None):
        """Call the review meeting off: everyone invited is sent a cancellation; it is resolved again."""
        incident = review_services.unschedule_review(incident=self.get_object(), by=request.user)
        return self._respond(incident)

    @extend_schema(request=PostmortemCheckSerializer, responses={200: PostmortemCheckResultSerializer})
    @action(detail=False, methods=["post"])
    def check(self, request):
        """Render Markdown as the page will and list blameless-language findings; never refuses text."""
        serializer = PostmortemCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        text = serializer.validated_data["text"]
        findings = [finding.as_dict() for finding in selectors.check_text(text=text)]
        return Response({"html": str(render_markdown(text)), "findings": findings})


class IncidentFilterSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=Status.choices, required=False, allow_blank=True)
    severity = serializers.ChoiceField(
        choices=severity_choices(),
        required=False,
        error_messages={"invalid_choice": SEVERITY_ERROR},
    )
    team = serializers.SlugField(required=False, allow_blank=True)
    tag = serializers.CharField(required=False, allow_blank=True, max_length=50)
    started_after = serializers.DateTimeField(required=False, error_messages={"invalid": TIME_ERROR})
    started_before = serializers.DateTimeField(required=False, error_messages={"invalid": TIME_ERROR})
