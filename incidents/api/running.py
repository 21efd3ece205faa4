"""The API for running an incident: roles, status updates, subscribing, the public page, starring events.

`RunningActions` is mixed into IncidentViewSet: its actions sit under
/api/v1/incidents/{id}/ like the incident's other state changes.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import RoleAssignment, RoleKind, StatusUpdate, TimelineEvent
from incidents.selectors import running as selectors
from incidents.services import running as services
from morgue import fields
from morgue.models import Team, display_name
from morgue.validators import validate_plausible_instant

TIME_ERROR = "Give a time in ISO 8601 with an offset, such as 2026-03-01T14:05:00+01:00."


class RoleAssignmentSerializer(fields.ModelSerializer):
    role: "serializers.SlugRelatedField[RoleKind]" = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    role_name = serializers.CharField(source="role.name", read_only=True)
    user: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    user_name = serializers.SerializerMethodField()

    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "role_name", "user", "user_name", "assigned_at", "ended_at"]
        read_only_fields = fields

    def get_user_name(self, assignment: RoleAssignment) -> str:
        return display_name(assignment.user)


class RoleAssignSerializer(fields.Serializer):
    role = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=RoleKind.objects.all(),
        error_messages={"does_not_exist": "{value} is not a role: staff define roles in the admin."},
    )
    user = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        allow_null=True,
        error_messages={"does_not_exist": "Nobody active is called {value}."},
        help_text="The new holder; null hands the role back (nobody holds it).",
    )


class StatusUpdateSerializer(fields.ModelSerializer):
    author: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    next_update_at = serializers.DateTimeField(
        validators=[validate_plausible_instant],
        required=False,
        allow_null=True,
        error_messages={"invalid": TIME_ERROR},
    )
    affected = serializers.CharField(max_length=2000)
    doing = serializers.CharField(max_length=2000)

    class Meta:
        model = StatusUpdate
        fields = ["id", "posted_at", "author", "affected", "doing", "next_update_at"]
        read_only_fields = ["id", "posted_at", "author"]


class SubscriptionSerializer(fields.Serializer):
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        error_messages={"does_not_exist": "No team has the slug {value}."},
        help_text="A team to (un)subscribe; without it, the person calling.",
    )


class SubscriptionStateSerializer(fields.Serializer):
    subscribed = serializers.BooleanField()
    teams = serializers.ListField(child=serializers.CharField())


class PublicSerializer(fields.Serializer):
    public = serializers.BooleanField()
    postmortem = serializers.BooleanField(default=False)


class PublicStateSerializer(fields.Serializer):
    public = serializers.BooleanField()
    postmortem = serializers.BooleanField()
    url = serializers.CharField(help_text="The public page's path; empty until it was first shown.")


class StarSerializer(fields.Serializer):
    event = serializers.IntegerField()
    starred = serializers.BooleanField(default=True)


class RunningActions:
    """Actions of IncidentViewSet (which provides get_object)."""

    @extend_schema(request=RoleAssignSerializer, responses={200: RoleAssignmentSerializer(many=True)})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def roles(self, request, pk=None):
        """Who holds each role (and who held it); POST assigns or hands a role over."""
        incident = self.get_object()  # type: ignore[attr-defined]
        if request.method == "POST":
            serializer = RoleAssignSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            role, user = serializer.validated_data["role"], serializer.validated_data["user"]
            if user is None:
                services.release_role(incident=incident, role=role, by=request.user)
            else:
                services.assign_role(incident=incident, role=role, user=user, by=request.user)
        assignments = RoleAssignment.objects.filter(incident=incident).select_related("role", "user__profile")
        return Response(RoleAssignmentSerializer(assignments, many=True).data)

    @extend_schema(
        request=StatusUpdateSerializer,
        responses={200: StatusUpdateSerializer(many=True), 201: StatusUpdateSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="status-updates", pagination_class=None)
    def status_updates(self, request, pk=None):
        """The incident's status updates, newest first; POST publishes one and sends it to the subscribers."""
        incident = self.get_object()  # type: ignore[attr-defined]
        if request.method == "GET":
            return Response(
                StatusUpdateSerializer(selectors.status_updates(incident=incident), many=True).data
            )
        serializer = StatusUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        update = services.post_status_update(incident=incident, by=request.user, **serializer.validated_data)
        return Response(StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionSerializer, responses={200: SubscriptionStateSerializer})
    @action(detail=True, methods=["get", "post", "delete"])
    def subscription(self, request, pk=None):
        """Follow (POST) or unfollow (DELETE) the status updates, as yourself or for a team."""
        incident = self.get_object()  # type: ignore[attr-defined]
        if request.method != "GET":
            serializer = SubscriptionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            team = serializer.validated_data.get("team")
            who: dict[str, User | Team] = {"team": team} if team else {"user": request.user}
            if request.method == "POST":
                services.subscribe(incident=incident, **who)  # type: ignore[arg-type]
            else:
                services.unsubscribe(incident=incident, **who)  # type: ignore[arg-type]
        return Response(
            {
                "subscribed": selectors.is_subscribed(incident=incident, user=request.user),
                "teams": selectors.subscribed_teams(incident=incident),
            }
        )

    @extend_schema(request=PublicSerializer, responses={200: PublicStateSerializer})
    @action(detail=True, methods=["post"])
    def public(self, request, pk=None):
        """Show or hide the read-only public page (and the published postmortem on it)."""
        incident = self.get_object()  # type: ignore[attr-defined]
        serializer = PublicSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = services.set_public(incident=incident, by=request.user, **serializer.validated_data)
        return Response(
            {
                "public": incident.is_public,
                "postmortem": incident.public_postmortem,
                "url": services.public_url(incident),
            }
        )

    @extend_schema(request=StarSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def star(self, request, pk=None):
        """Star (or unstar) a timeline event: starred events lead the Markdown export."""
        incident = self.get_object()  # type: ignore[attr-defined]
        serializer = StarSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = TimelineEvent.objects.filter(incident=incident, pk=serializer.validated_data["event"]).first()
        if event is None:
            raise serializers.ValidationError({"event": ["This incident has no such timeline event."]})
        services.star_event(event=event, starred=serializer.validated_data["starred"])
        return Response({"event": event.pk, "starred": event.starred})
