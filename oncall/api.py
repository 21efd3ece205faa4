"""REST endpoints for on call: who is on call, teams, rotations, shifts, overrides, swaps, pages."""

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue import permissions as rules
from morgue import services as people_services
from morgue.auth import signed_in
from morgue.fields import TimeZoneField
from morgue.models import Role, Team
from morgue.validators import EARLIEST_YEAR, LATEST_YEAR, validate_plausible_instant

from . import selectors, services
from . import shifts as shift_rules
from .models import Advance, Level, Override, Page, PageStep, Rotation, Shift, Swap

User = get_user_model()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def _parse_instant(raw: str | None, name: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))
    except ValueError:
        value = None
    if value is None:
        raise serializers.ValidationError({name: [f"{raw} is not an ISO 8601 date and time."]})
    # Look-ups reach a rotation's longest shift either side; the years at the
    # edge of the calendar would overflow that arithmetic.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise serializers.ValidationError(
            {name: [f"{name} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}."]}
        )
    return _aware(value)


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data):
        queryset = self.get_queryset()
        assert queryset is not None  # given in __init__
        try:
            return queryset.get(username=data)
        except (User.DoesNotExist, TypeError, ValueError):
            raise serializers.ValidationError(f"There is no person with username {data}.") from None


# --- Who is on call ------------------------------------------------------------------------------


class OnCallSerializer(fields.Serializer):
    team = serializers.CharField()
    rotation = serializers.CharField()
    level = serializers.CharField()
    user = serializers.CharField()
    shift_start = serializers.DateTimeField()
    shift_end = serializers.DateTimeField()
    # DRF's serializer metaclass moves declared fields off the class, so this
    # does not replace Field.source, whatever the stubs infer.
    source = serializers.CharField()  # type: ignore[assignment]
    next_user = serializers.CharField(allow_null=True)
    next_shift_start = serializers.DateTimeField(allow_null=True)


class OnCallView(APIView):
    """Who holds each level of each rotation now (or at `at`), and who is next."""

    @extend_schema(
        parameters=[
            OpenApiParameter("team", str, description="A team slug."),
            OpenApiParameter("at", str, description="An ISO 8601 instant; now when absent."),
        ],
        responses=OnCallSerializer(many=True),
    )
    def get(self, request):
        at = _parse_instant(request.query_params.get("at"), "at")
        team = None
        if slug := request.query_params.get("team"):
            team = Team.objects.filter(slug=slug).first()
            if team is None:
                raise serializers.ValidationError({"team": [f"There is no team {slug}."]})
        rows = selectors.on_call_now(at=at, team=team)
        return Response(OnCallSerializer(rows, many=True).data)


# --- Teams ---------------------------------------------------------------------------------------


class TeamSerializer(fields.ModelSerializer):
    fallback_team = serializers.SlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Team
        fields = ["name", "slug", "pageable", "email", "webhook_url", "fallback_team"]

    def validate_webhook_url(self, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise serializers.ValidationError("The webhook must be an http or https address.")
        return value


class TeamMemberSerializer(fields.Serializer):
    """A person in a team and their role there (morgue.permissions.RULES says what each may do)."""

    username = UsernameField(source="user")
    role = serializers.ChoiceField(choices=Role.choices)
    from_directory = serializers.BooleanField(
        read_only=True, help_text="Given by a directory group at sign-in (MORGUE_GROUP_ROLES)."
    )


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Teams: anyone may read; staff create them; a team's managers change it and its members' roles."""

    serializer_class = TeamSerializer
    permission_classes = [rules.RulePermission]
    object_rules = {"members": "set_role", "*": "edit"}
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Team.objects.select_related("fallback_team").order_by("name")
    pagination_class = None

    def get_serializer_class(self):
        return TeamMemberSerializer if self.action == "members" else TeamSerializer

    def create(self, request, *args, **kwargs):
        rules.require(request.user, "create", None, kind="team")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_team(**serializer.validated_data)

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=TeamMemberSerializer(many=True),
        operation_id="v1_teams_members_list",
    )
    @extend_schema(
        methods=["POST"],
        request=TeamMemberSerializer,
        responses=TeamMemberSerializer,
        operation_id="v1_teams_members_create",
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("username", str, required=True, description="Who leaves the team.")],
        operation_id="v1_teams_members_destroy",
    )
    @action(detail=True, methods=["get", "post", "delete"], pagination_class=None)
    def members(self, request, slug=None):
        """The team's members and roles; POST puts a person in with a role (or changes it); DELETE removes."""
        team = self.get_object()
        if request.method == "GET":
            memberships = team.memberships.select_related("user").order_by("user__username")
            return Response(TeamMemberSerializer(memberships, many=True).data)
        if request.method == "DELETE":
            user = UsernameField().to_internal_value(request.query_params.get("username", ""))
            people_services.remove_member(team=team, user=user, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = TeamMemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = people_services.set_member_role(
            team=team, user=body.validated_data["user"], role=body.validated_data["role"], by=request.user
        )
        return Response(TeamMemberSerializer(membership).data)

    def perform_update(self, serializer):
        serializer.instance = services.update_team(team=serializer.instance, **serializer.validated_data)


# --- Rotations -----------------------------------------------------------------------------------

HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class RotationMemberSerializer(fields.Serializer):
    username = serializers.CharField()
    experienced = serializers.BooleanField(default=False)

    def validate(self, attrs):
        # A PATCH validates partially all the way down, so DRF would let a
        # member without a username (`members: [{}]`) through.
        if "username" not in attrs:
            raise serializers.ValidationError({"username": ["Give each member's username."]})
        return attrs


class RotationSerializer(fields.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    time_zone = TimeZoneField(required=False, default="UTC")
    handoff_time = serializers.CharField(default="10:00")
    levels = serializers.ListField(child=serializers.CharField(), default=["L1", "L2"])
    members = RotationMemberSerializer(many=True, required=False)
    shift_length_days = serializers.IntegerField(default=3)
    shift_length_hours = serializers.IntegerField(required=False, allow_null=True, default=None)
    restrictions = serializers.JSONField(required=False, default=list)  # type: ignore[arg-type]
    advance = serializers.ChoiceField(choices=Advance.choices, required=False, default=Advance.WALL_TIME)
    layer = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=99)
    group = serializers.SlugRelatedField(
        slug_field="name", queryset=Group.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Rotation
        fields = [
            "team",
            "name",
            "slug",
            "time_zone",
            "shift_length_days",
            "shift_length_hours",
            "handoff_time",
            "restrictions",
            "advance",
            "layer",
            "first_shift_date",
            "levels",
            "escalation_timeout_minutes",
            "everyone_else",
            "group",
            "members",
        ]

    def to_representation(self, rotation):
        return {
            "team": rotation.team.slug,
            "name": rotation.name,
            "slug": rotation.slug,
            "time_zone": rotation.time_zone,
            "shift_length_days": rotation.shift_length_days,
            "shift_length_hours": rotation.shift_length_hours,
            "handoff_time": rotation.handoff_time.strftime("%H:%M"),
            "restrictions": rotation.restrictions,
            "advance": rotation.advance,
            "layer": rotation.layer,
            "first_shift_date": rotation.first_shift_date.isoformat(),
            "levels": rotation.levels,
            "escalation_timeout_minutes": rotation.escalation_timeout_minutes,
            "everyone_else": rotation.everyone_else,
            "group": rotation.group.name if rotation.group else None,
            "members": [
                {"username": member.user.username, "experienced": member.experienced}
                for member in rotation.members.all()
            ],
        }

    def validate_team(self, team: Team) -> Team:
        # Checked as the team is read, so someone who may not plan its rotations hears that first.
        request = self.context.get("request")
        if request is not None:
            rules.require(request.user, "edit", team, kind="rotation")
        return team

    def validate_handoff_time(self, value: str) -> dt.time:
        match = HHMM.match(value)
        if not match:
            raise serializers.ValidationError(f"{value} is not a time as HH:MM (for example 10:00).")
        return dt.time(int(match.group(1)), int(match.group(2)))

    def validate_shift_length_days(self, value: int) -> int:
        if not shift_rules.MIN_LENGTH_DAYS <= value <= shift_rules.MAX_LENGTH_DAYS:
            raise serializers.ValidationError("A shift lasts from 1 to 28 days.")
        return value

    def validate_shift_length_hours(self, value: int | None) -> int | None:
        if value is not None and not shift_rules.MIN_LENGTH_HOURS <= value <= shift_rules.MAX_LENGTH_HOURS:
            raise serializers.ValidationError(
                f"A turn in hours lasts from 1 to {shift_rules.MAX_LENGTH_HOURS} hours "
                "(leave it empty for a turn in days)."
            )
        return value

    def validate_restrictions(self, value: object) -> list[dict[str, str]]:
        try:
            windows = shift_rules.parse_restrictions(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from error
        return [window.as_dict() for window in windows]

    def validate_levels(self, value: list) -> list:
        if value not in (["L1"], ["L1", "L2"]):
            raise serializers.ValidationError('Levels are ["L1", "L2"] or ["L1"].')
        return value

    def validate_members(self, value: list) -> list:
        usernames = [item["username"] for item in value]
        found = {user.username: user for user in User.objects.filter(username__in=usernames, is_active=True)}
        unknown = [name for name in usernames if name not in found]
        if unknown:
            raise serializers.ValidationError(f"There is no person with username {', '.join(unknown)}.")
        return [
            services.MemberSpec(found[item["username"]], item.get("experienced", False)) for item in value
        ]

    def validate(self, attrs):
        everyone_else = attrs.get("everyone_else", getattr(self.instance, "everyone_else", False))
        if self.instance is None and not everyone_else and not attrs.get("members"):
            raise serializers.ValidationError({"members": ["A rotation needs at least one member."]})
        if "members" in attrs and not attrs["members"] and not everyone_else:
            raise serializers.ValidationError({"members": ["A rotation needs at least one member."]})
        if "levels" in attrs:
            attrs["has_l2"] = attrs.pop("levels") == ["L1", "L2"]
        return attrs


class HeldWindowSerializer(fields.Serializer):
    rotation = serializers.CharField()
    level = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class RotationPreviewSerializer(fields.Serializer):
    """One person's change in a rotation edit's preview (response only)."""

    username = serializers.CharField()
    appear = HeldWindowSerializer(many=True)
    disappear = HeldWindowSerializer(many=True)


class ShiftSerializer(fields.ModelSerializer):
    user = serializers.CharField(source="user.username")

    class Meta:
        model = Shift
        fields = ["level", "user", "starts_at", "ends_at", "source"]


class OverrideSerializer(fields.ModelSerializer):
    user = UsernameField()
    level = serializers.ChoiceField(choices=Level.choices)

    class Meta:
        model = Override
        fields = ["id", "level", "user", "starts_at", "ends_at", "reason"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "starts_at": {"validators": [validate_plausible_instant]},
            "ends_at": {"validators": [validate_plausible_instant]},
        }

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["The override must end after it starts."]})
        return attrs


class RotationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Rotations and their shifts: anyone may read and add overrides; managers create and edit."""

    serializer_class = RotationSerializer
    permission_classes = [rules.RulePermission]
    # An override for oneself is a responder's; the service checks one for someone else (a manager's).
    object_rules = {"overrides": "override_self", "*": "edit"}
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = (
        Rotation.objects.select_related("team", "group").prefetch_related("members__user").order_by("slug")
    )
    pagination_class = None

    def create(self, request, *args, **kwargs):
        rules.require(request.user, "edit", None, kind="rotation")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_rotation(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.update_rotation(
            rotation=serializer.instance, **serializer.validated_data
        )

    @extend_schema(
        parameters=[OpenApiParameter("since", str), OpenApiParameter("until", str)],
        responses=ShiftSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def shifts(self, request, slug=None):
        rotation = self.get_object()
        since = _parse_instant(request.query_params.get("since"), "since") or timezone.now()
        until = _parse_instant(request.query_params.get("until"), "until") or since + dt.timedelta(days=30)
        if until <= since:
            raise serializers.ValidationError({"until": ["until must be after since."]})
        shifts = selectors.rotation_shifts(rotation=rotation, since=since, until=until)
        return Response(ShiftSerializer(shifts, many=True).data)

    @extend_schema(request=RotationSerializer, responses=RotationPreviewSerializer(many=True))
    @action(detail=True, methods=["post"])
    def preview(self, request, slug=None):
        """Per person, the future shifts this edit (a PATCH body) would add and remove; nothing is saved."""
        rotation = self.get_object()
        serializer = self.get_serializer(rotation, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = services.preview_rotation_change(rotation=rotation, **serializer.validated_data)
        return Response([change.as_dict() for change in changes])

    @extend_schema(request=OverrideSerializer, responses={201: OverrideSerializer})
    @action(detail=True, methods=["post"])
    def overrides(self, request, slug=None):
        rotation = self.get_object()
        serializer = OverrideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        override = services.create_override(
            rotation=rotation, created_by=request.user, **serializer.validated_data
        )
        return Response(OverrideSerializer(override).data, status=status.HTTP_201_CREATED)


# --- Swaps ---------------------------------------------------------------------------------------


class SwapSerializer(fields.ModelSerializer):
    rotation = serializers.SlugRelatedField(slug_field="slug", queryset=Rotation.objects.all())
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    taken_by = UsernameField()
    status = serializers.CharField(read_only=True, help_text="asked, accepted or declined")

    class Meta:
        model = Swap
        fields = [
            "id",
            "rotation",
            "level",
            "requested_by",
            "taken_by",
            "starts_at",
            "ends_at",
            "reason",
            "status",
        ]
        read_only_fields = ["id", "status"]
        extra_kwargs = {
            "starts_at": {"validators": [validate_plausible_instant]},
            "ends_at": {"validators": [validate_plausible_instant]},
        }


class SwapViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Swaps you asked for or were asked to take; accepting one makes it an override."""

    serializer_class = SwapSerializer
    pagination_class = None
    queryset = Swap.objects.none()  # narrowed to the person's own in get_queryset

    def get_queryset(self):
        user = signed_in(self.request)
        return (Swap.objects.filter(requested_by=user) | Swap.objects.filter(taken_by=user)).select_related(
            "rotation", "requested_by", "taken_by"
        )

    def perform_create(self, serializer):
        serializer.instance = services.ask_swap(
            requested_by=signed_in(self.request), **serializer.validated_data
        )

    def _answer(self, request, pk, accept: bool):
        swap = get_object_or_404(self.get_queryset(), pk=pk)
        swap = services.answer_swap(swap=swap, user=request.user, accept=accept)
        return Response(SwapSerializer(swap).data)

    @extend_schema(request=None, responses=SwapSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(request, pk, True)

    @extend_schema(request=None, responses=SwapSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._answer(request, pk, False)

    @extend_schema(request=None, responses=SwapSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        swap = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(SwapSerializer(services.withdraw_swap(swap=swap, user=request.user)).data)


# --- Pages ---------------------------------------------------------------------------------------


class PageStepSerializer(fields.ModelSerializer):
    team = serializers.CharField(source="team.slug")
    user = serializers.CharField(source="user.username", allow_null=True, default=None, read_only=True)

    class Meta:
        model = PageStep
        fields = [
            "number",
            "team",
            "level",
            "user",
            "created_at",
            "due_at",
            "notified_at",
            "escalated_at",
            "note",
        ]


class PageSerializer(fields.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, default=None, allow_null=True
    )
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, default=None, allow_null=True
    )
    steps = PageStepSerializer(many=True, read_only=True)
    status = serializers.CharField(read_only=True, help_text="open, acknowledged, exhausted or resolved")

    class Meta:
        model = Page
        fields = [
            "id",
            "team",
            "message",
            "incident",
            "status",
            "created_by",
            "created_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_at",
            "steps",
        ]
        read_only_fields = ["id", "status", "created_at", "acknowledged_at", "resolved_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].error_messages["does_not_exist"] = "There is no team {value}."

    def validate_message(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Say what is wrong in the message.")
        return value


class AcknowledgeSerializer(fields.Serializer):
    silence_in_alertmanager = serializers.BooleanField(
        default=True,
        help_text="Silence the page's alerts in their Alertmanager until they resolve "
        "(alerts from a source with an Alertmanager URL; nothing for others).",
    )


class PageViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Page any team; the page escalates L1 → L2 → fallback team until acknowledged."""

    serializer_class = PageSerializer
    permission_classes = [rules.RulePermission]
    # Anyone may page any team and acknowledge a page that reached them; resolving is a responder's.
    object_rules = {"resolve": "resolve"}
    queryset = Page.objects.select_related("team", "created_by", "acknowledged_by").prefetch_related(
        "steps__team", "steps__user"
    )

    def perform_create(self, serializer):
        serializer.instance = services.page_team(
            created_by=signed_in(self.request), **serializer.validated_data
        )

    @extend_schema(request=AcknowledgeSerializer, responses=PageSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Stop the escalation; by default, silence its alerts in their Alertmanager (sources with a URL)."""
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        page = services.acknowledge_page(
            page=self.get_object(), user=request.user, silence=body.validated_data["silence_in_alertmanager"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=page.pk)).data)

    @extend_schema(request=None, responses=PageSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """End the page: escalation stops and everyone it notified is told it is resolved."""
        page = services.resolve_page(page=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=page.pk)).data)
