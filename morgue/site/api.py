"""The people endpoints: the signed-in person's profile and the directory."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue import permissions as rules
from morgue.auth import signed_in
from morgue.fields import TimeZoneField, WallClockTimeField
from morgue.models import ApiToken, Profile, TokenScope
from morgue.services import (
    API_TOKEN_EXPIRY_CHOICES,
    api_token_expiry,
    create_api_token,
    create_person,
    reset_calendar_token,
    revoke_api_token,
    update_profile,
)
from oncall.feeds import feed_url


class MeSerializer(fields.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", required=False, allow_blank=True)
    calendar_token_prefix = serializers.CharField(
        read_only=True,
        help_text="The start of the calendar-feed token; the token is shown only when made "
        "(POST /api/v1/me/calendar-token/). Empty when there is none.",
    )
    sleep_start = WallClockTimeField(required=False, help_text="Local time sleep starts.")
    sleep_end = WallClockTimeField(required=False, help_text="Local time sleep ends.")

    class Meta:
        model = Profile
        fields = [
            "username",
            "display_name",
            "email",
            "time_zone",
            "sleep_start",
            "sleep_end",
            "shift_reminder_minutes",
            "calendar_token_prefix",
        ]


class PersonSerializer(fields.ModelSerializer):
    display_name = serializers.SerializerMethodField()
    time_zone = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["username", "email", "display_name", "time_zone", "is_staff"]

    def get_display_name(self, user) -> str:
        profile = getattr(user, "profile", None)
        return profile.name if profile else user.username

    def get_time_zone(self, user) -> str:
        profile = getattr(user, "profile", None)
        return profile.time_zone if profile else "UTC"


class PersonCreateSerializer(fields.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    display_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    time_zone = TimeZoneField(required=False, default="UTC")

    def validate_username(self, value: str) -> str:
        if get_user_model().objects.filter(username=value).exists():
            raise serializers.ValidationError(f"A person with username {value} already exists.")
        return value


class MeView(RetrieveUpdateAPIView):
    """The signed-in person's own profile."""

    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Profile:
        return Profile.objects.select_related("user").get(pk=Profile.objects.for_user(self.request.user).pk)

    def perform_update(self, serializer) -> None:
        data = dict(serializer.validated_data)
        user_data = data.pop("user", {})
        serializer.instance = update_profile(
            profile=serializer.instance, email=user_data.get("email"), **data
        )


class IsStaffToWrite(permissions.BasePermission):
    """Creating people is an admin's (morgue.permissions: edit person)."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        rules.require(request.user, "edit", None, kind="person")
        return True


class PersonViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """People, for directory sync scripts: anyone may list, staff may create."""

    permission_classes = [permissions.IsAuthenticated, IsStaffToWrite]
    lookup_field = "username"
    lookup_value_regex = r"[\w.@+-]+"

    def get_queryset(self):
        return get_user_model().objects.filter(is_active=True).select_related("profile").order_by("username")

    def get_serializer_class(self):
        return PersonCreateSerializer if self.action == "create" else PersonSerializer

    def create(self, request, *args, **kwargs):
        serializer = PersonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        profile = create_person(**serializer.validated_data)
        user = get_user_model().objects.select_related("profile").get(pk=profile.user_id)
        return Response(PersonSerializer(user).data, status=status.HTTP_201_CREATED)


class CalendarTokenSerializer(fields.Serializer):
    calendar_token = serializers.CharField(read_only=True, help_text="Shown this once: only a hash is kept.")
    calendar_url = serializers.CharField(
        read_only=True, help_text="The person's own on-call feed (iCalendar)."
    )
    webcal_url = serializers.CharField(read_only=True)


class CalendarTokenView(APIView):
    """Make a new calendar-feed token for the signed-in person (any old one stops working)."""

    @extend_schema(request=None, responses={201: CalendarTokenSerializer})
    def post(self, request):
        profile = Profile.objects.for_user(signed_in(request))
        token = reset_calendar_token(profile=profile)
        return Response(
            {
                "calendar_token": token,
                "calendar_url": feed_url(profile=profile, token=token),
                "webcal_url": feed_url(profile=profile, token=token, webcal=True),
            },
            status=status.HTTP_201_CREATED,
        )


class ApiTokenSerializer(fields.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="active, expired or revoked.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "status",
        ]
        read_only_fields = fields

    def get_status(self, api_token: ApiToken) -> str:
        return api_token.status()


class ApiTokenCreateSerializer(fields.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=TokenScope.choices)
    expires = serializers.ChoiceField(
        choices=API_TOKEN_EXPIRY_CHOICES,
        help_text="Days until it expires (30, 90, 365), `date` (then `expires_on`), or `never` (staff only).",
    )
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="With `expires: date`: the last day it works, your time zone.",
    )


class ApiTokenMadeSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself, shown this once.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in person's API tokens: list, make (the token is in the answer, once), revoke."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no person
            return ApiToken.objects.none()
        return ApiToken.objects.filter(owner=signed_in(self.request))

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenMadeSerializer})
    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        owner = signed_in(request)
        api_token = create_api_token(
            owner=owner,
            name=data["name"],
            scope=data["scope"],
            expires_at=api_token_expiry(
                expires=data["expires"],
                expires_on=data.get("expires_on"),
                zone=Profile.objects.for_user(owner).zone,
            ),
            made_with=request.auth if isinstance(request.auth, ApiToken) else None,
        )
        return Response(ApiTokenMadeSerializer(api_token).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        api_token = revoke_api_token(api_token=self.get_object())
        return Response(ApiTokenSerializer(api_token).data)
