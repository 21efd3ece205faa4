"""Remediation items over REST: per incident, across incidents, and their figures."""

import datetime as dt
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListCreateAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.models import (
    Incident,
    RemediationCategory,
    RemediationItem,
    RemediationKind,
    RemediationPriority,
    RemediationStatus,
    TrackerIssue,
    TrackerKind,
)
from incidents.selectors import remediation as selectors
from incidents.selectors.board import column_counts
from incidents.selectors.incident import blameless_phrases, people_names
from incidents.services import remediation as services
from incidents.services import trackers as tracker_services
from morgue import fields, permissions
from morgue.markdown import render_markdown
from morgue.models import Team


def _choice(choices, noun: str) -> serializers.ChoiceField:
    allowed = " or ".join(", ".join(choices.values).rsplit(", ", 1))
    return serializers.ChoiceField(
        choices=choices.choices,
        error_messages={"invalid_choice": f"“{{input}}” is not a {noun}; use {allowed}."},
    )


@extend_schema_field(OpenApiTypes.STR)
class OwnerField(serializers.Field):
    """A person given by username; an unknown one is refused by name."""

    default_error_messages = {"unknown": "No person has the username “{username}”."}

    def to_internal_value(self, data):
        username = str(data).strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            self.fail("unknown", username=username)
        return user

    def to_representation(self, value) -> str:
        return value.username


@extend_schema_field({"type": "string", "nullable": True, "description": "Team slug."})
class TeamField(serializers.Field):
    default_error_messages = {"unknown": "No team has the slug “{slug}”."}

    def to_internal_value(self, data):
        if data in (None, ""):
            return None
        team = Team.objects.filter(slug=str(data).strip()).first()
        if team is None:
            self.fail("unknown", slug=data)
        return team

    def to_representation(self, value) -> str | None:
        return value.slug if value else None


class BlamelessFindingSerializer(fields.Serializer):
    phrase = serializers.CharField()
    matched = serializers.CharField()
    line = serializers.IntegerField()
    reason = serializers.CharField()
    suggestion = serializers.CharField()


class TrackerIssueSerializer(fields.ModelSerializer):
    tracker = serializers.CharField(source="kind", read_only=True)

    class Meta:
        model = TrackerIssue
        fields = [
            "tracker",
            "project",
            "status",
            "key",
            "url",
            "remote_state",
            "last_error",
            "requested_at",
            "linked_at",
            "synced_at",
        ]
        read_only_fields = fields


TRACKER_ISSUE_TEXT_FIELDS = ("tracker", "project", "status", "key", "url", "remote_state", "last_error")


class TrackerIssueRequestSerializer(fields.Serializer):
    """Which tracker to create the item's issue in; empty for its team's."""

    tracker = serializers.ChoiceField(
        choices=TrackerKind.choices,
        required=False,
        error_messages={
            "invalid_choice": f"“{{input}}” is not a tracker; use {', '.join(TrackerKind.values)}."
        },
    )
    project = serializers.CharField(
        required=False,
        max_length=200,
        help_text="GitHub owner/repo, GitLab project id or path, Jira project key.",
    )
    repository = serializers.CharField(
        required=False, max_length=200, help_text="The same as project (GitHub)."
    )
    base_url = serializers.URLField(
        required=False, max_length=300, help_text="Empty for the configured address."
    )
    url = serializers.URLField(
        required=False, max_length=500, help_text="Follow this existing issue (its page's address) instead."
    )

    def validate(self, attrs):
        if attrs.get("url"):
            others = sorted(
                name for name in ("tracker", "project", "repository", "base_url") if attrs.get(name)
            )
            if others:
                raise serializers.ValidationError(
                    {"url": [f"Give either the issue's address or {', '.join(others)}, not both."]}
                )
            return {"url": attrs["url"]}
        project = attrs.get("project") or attrs.get("repository") or ""
        if attrs.get("tracker") and not project:
            raise serializers.ValidationError(
                {"project": ["Say which project (or repository) to create it in."]}
            )
        if not attrs.get("tracker") and (project or attrs.get("base_url")):
            raise serializers.ValidationError({"tracker": ["Say which tracker the project is in."]})
        return {"kind": attrs.get("tracker", ""), "project": project, "base_url": attrs.get("base_url", "")}


class RemediationItemSerializer(fields.ModelSerializer):
    incident_title = serializers.SerializerMethodField()
    origin = serializers.CharField(source="origin_title", read_only=True)
    # A method field: a callable `source` makes DRF inspect its signature for every item.
    url = serializers.SerializerMethodField()
    owner = serializers.CharField(source="owner.username", read_only=True)
    team: "serializers.SlugRelatedField[Team]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    ticket_key = serializers.CharField(read_only=True)
    description_html = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    blameless = serializers.SerializerMethodField()
    tracker_issue = serializers.SerializerMethodField()

    class Meta:
        model = RemediationItem
        fields = [
            "id",
            "incident",
            "incident_title",
            "origin",
            "url",
            "title",
            "description",
            "description_html",
            "kind",
            "category",
            "owner",
            "team",
            "priority",
            "ticket_url",
            "ticket_key",
            "tracker_issue",
            "due_date",
            "status",
            "wont_do_reason",
            "completed_at",
            "reminders_muted",
            "overdue",
            "blameless",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_incident_title(self, item) -> str | None:
        if not item.incident_id:
            return None
        # Lists fetch the title alone (RemediationItemQuerySet.for_listing), not the whole incident.
        shown = getattr(item, "incident_title_shown", None)
        return shown if shown is not None else item.incident.title

    # Inline rather than a $ref: OpenAPI 3.0 cannot say "this component, or null" with a $ref.
    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "readOnly": True,
            "description": "The item's issue in a tracker; null when none was asked for.",
            "properties": {
                **{name: {"type": "string"} for name in TRACKER_ISSUE_TEXT_FIELDS},
                **{
                    name: {"type": "string", "format": "date-time", "nullable": True}
                    for name in ("requested_at", "linked_at", "synced_at")
                },
            },
        }
    )
    def get_tracker_issue(self, item) -> dict | None:
        # Joined by the querysets (with_people, for_listing): no query per item.
        try:
            issue = item.tracker_issue
        except TrackerIssue.DoesNotExist:
            return None
        return TrackerIssueSerializer(issue).data

    def get_url(self, item) -> str:
        return item.get_absolute_url()

    def get_description_html(self, item) -> str:
        return str(render_markdown(item.description))

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        """`make()` once per response: DRF hands every serializer of a response the same
        context dict, which is what makes it a cache (the stubs type it read-only)."""
        cache: dict = self.context  # type: ignore[assignment]
        if cache.get(key) is None:
            cache[key] = make()
        return cache[key]

    def get_overdue(self, item) -> bool:
        return item.is_overdue(self._once("today", timezone.localdate))

    @extend_schema_field(BlamelessFindingSerializer(many=True))
    def get_blameless(self, item) -> list[dict]:
        # The phrase list once per response; people's names only when a text has a
        # cause verb, then once too.
        findings = selectors.blameless_findings(
            item,
            phrases=self._once("blameless_phrases", blameless_phrases),
            names=lambda: self._once("people_names", people_names),
        )
        return [finding.as_dict() for finding in findings]


class RemediationItemWriteSerializer(fields.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = _choice(RemediationKind, "kind")
    category = _choice(RemediationCategory, "category")
    owner = OwnerField()
    team = TeamField(required=False, allow_null=True, default=None)
    priority = _choice(RemediationPriority, "priority")
    ticket_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    status = _choice(RemediationStatus, "status")
    wont_do_reason = serializers.CharField(required=False, allow_blank=True, default="")
    reminders_muted = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].required = False
        self.fields["priority"].default = RemediationPriority.NORMAL
        self.fields["status"].required = False
        self.fields["status"].default = RemediationStatus.OPEN


class RemediationQuerySerializer(serializers.Serializer):
    kind = _choice(RemediationKind, "kind")
    status = _choice(RemediationStatus, "status")
    owner = serializers.CharField(required=False)
    team = serializers.CharField(required=False)
    category = _choice(RemediationCategory, "category")
    severity = serializers.IntegerField(required=False, min_value=1, max_value=5)
    overdue = serializers.BooleanField(required=False, default=False)
    incident = serializers.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("kind", "status", "category"):
            self.fields[name].required = False

    def filters(self) -> selectors.BoardFilters:
        data = self.validated_data
        return selectors.BoardFilters(
            kind=data.get("kind", ""),
            status=data.get("status", ""),
            owner=data.get("owner", ""),
            team=data.get("team", ""),
            category=data.get("category", ""),
            severity=data.get("severity"),
            overdue=data.get("overdue", False),
            incident=data.get("incident"),
        )


def _reload(item: RemediationItem) -> RemediationItem:
    return RemediationItem.objects.with_people().get(pk=item.pk)


@extend_schema(parameters=[OpenApiParameter("incident_id", OpenApiTypes.INT, OpenApiParameter.PATH)])
class IncidentRemediationListView(ListCreateAPIView):
    """An incident's remediation items; POST adds one (owner by username)."""

    serializer_class = RemediationItemSerializer

    def get_incident(self) -> Incident:
        return get_object_or_404(Incident.objects.visible(), pk=self.kwargs["incident_id"])

    def get_queryset(self):
        return self.get_incident().remediation_items.with_people().order_by("kind", "due_date", "id")

    @extend_schema(request=RemediationItemWriteSerializer, responses={201: RemediationItemSerializer})
    def post(self, request, *args, **kwargs):
        incident = self.get_incident()
        permissions.require(request.user, "edit", incident)
        write = RemediationItemWriteSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        item = services.create_item(incident=incident, created_by=request.user, **write.validated_data)
        body = RemediationItemSerializer(_reload(item), context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class RemediationItemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Remediation items across incidents: filter, read, and PATCH (including status)."""

    serializer_class = RemediationItemSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    permission_classes = [permissions.RulePermission]
    object_rules = {"*": "edit"}

    def get_queryset(self):
        if self.action != "list":
            return RemediationItem.objects.visible().with_people()
        return selectors.filtered_items(self._filters, today=timezone.localdate()).for_listing()

    def count_for_list(self) -> int:
        """The list's length for the paginator (morgue.rest.Pagination): the board's column counts."""
        return sum(column_counts(self._filters, today=timezone.localdate()).values())

    @cached_property
    def _filters(self) -> selectors.BoardFilters:
        """The list's filters, read once for the rows and the count."""
        query = RemediationQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.filters()

    @extend_schema(parameters=[RemediationQuerySerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RemediationItemWriteSerializer, responses=RemediationItemSerializer)
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        write = RemediationItemWriteSerializer(data=request.data, partial=True)
        write.is_valid(raise_exception=True)
        data = dict(write.validated_data)
        new_status = data.pop("status", None)
        reason = data.pop("wont_do_reason", None)
        item = services.update_item(item=item, changes=data, status=new_status, wont_do_reason=reason)
        return Response(RemediationItemSerializer(_reload(item), context=self.get_serializer_context()).data)

    @extend_schema(
        request=TrackerIssueRequestSerializer,
        responses={202: TrackerIssueSerializer, 200: TrackerIssueSerializer},
    )
    @action(detail=True, methods=["post"])
    def ticket(self, request, pk=None):
        """Create the item's issue in its team's tracker (or the one named), or follow one (`url`).

        A worker creates (or reads) it once: 202 until then, 200 when the item already has its issue.
        """
        item = self.get_object()
        ask = TrackerIssueRequestSerializer(data=request.data)
        ask.is_valid(raise_exception=True)
        if "url" in ask.validated_data:
            issue = tracker_services.link_issue(item=item, requested_by=request.user, **ask.validated_data)
        else:
            issue = tracker_services.request_issue(item=item, requested_by=request.user, **ask.validated_data)
        answer = status.HTTP_200_OK if issue.is_linked else status.HTTP_202_ACCEPTED
        return Response(TrackerIssueSerializer(issue).data, status=answer)


class RemediationMetricsQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False, help_text="Exclusive.")

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and until <= since:
            raise serializers.ValidationError({"until": ["The until date must be after the since date."]})
        return attrs


def _day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


_KIND_FIGURES: dict[str, serializers.Field] = {
    "opened": serializers.IntegerField(),
    "completed": serializers.IntegerField(),
    "completed_on_time": serializers.IntegerField(),
    "open_overdue": serializers.IntegerField(),
    "median_open_age_days": serializers.FloatField(allow_null=True),
}


class RemediationMetricsView(APIView):
    """Remediation figures for a window: opened, completed (on time), overdue, median open age."""

    @extend_schema(
        parameters=[RemediationMetricsQuerySerializer],
        responses=inline_serializer(
            "RemediationMetricsSerializer",
            {
                **_KIND_FIGURES,
                "by_kind": inline_serializer(
                    "RemediationMetricsByKindSerializer",
                    {
                        "dev": inline_serializer("RemediationMetricsDevSerializer", dict(_KIND_FIGURES)),
                        "ops": inline_serializer("RemediationMetricsOpsSerializer", dict(_KIND_FIGURES)),
                    },
                ),
            },
        ),
    )
    def get(self, request):
        query = RemediationMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            selectors.figures(
                since=_day_start(query.validated_data.get("since")),
                until=_day_start(query.validated_data.get("until")),
                today=timezone.localdate(),
            )
        )
