"""The people endpoints: the signed-in person's profile and the directory."""

from django.contrib.auth import get_user_model
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.generics import RetrieveUpdateAPIView
from rest_framework.response import Response

from morgue import fields
from morgue import permissions as rules
from morgue.fields import TimeZoneField, WallClockTimeField
from morgue.models import Profile
from morgue.services import create_person, update_profile
from oncall.feeds import feed_url


class MeSerializer(fields.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", required=False, allow_blank=True)
    calendar_token = serializers.CharField(read_only=True)
    calendar_url = serializers.SerializerMethodField()
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
            "calendar_token",
            "calendar_url",
        ]

    def get_calendar_url(self, profile) -> str:
        """The person's own on-call calendar feed (iCalendar), with their token."""
        return feed_url(profile=profile)


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
