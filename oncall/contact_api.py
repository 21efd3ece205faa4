"""REST endpoints for reaching the signed-in person: contact methods, notification rules, the fire drill."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue.auth import signed_in

from . import contact, selectors
from .models import ContactKind, ContactMethod, Notification, NotificationRule
from .services import notifications

# A day: a rule that waits longer than a page's whole escalation is a mistake.
MAX_DELAY_MINUTES = 24 * 60


class ContactMethodSerializer(fields.ModelSerializer):
    kind = serializers.ChoiceField(choices=ContactKind.choices)

    class Meta:
        model = ContactMethod
        fields = ["id", "kind", "address", "label", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        try:
            attrs["address"] = contact.check_address(attrs["kind"], attrs["address"])
        except contact.InvalidAddress as error:
            raise serializers.ValidationError({"address": [str(error)]}) from error
        return attrs


class ContactMethodViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your ways to be reached: email, SMS, voice call, push (ntfy), a Slack-compatible or Teams webhook."""

    serializer_class = ContactMethodSerializer
    queryset = ContactMethod.objects.none()  # for the schema; get_queryset scopes to the signed-in person

    def get_queryset(self):
        return ContactMethod.objects.filter(user=signed_in(self.request))

    def perform_create(self, serializer):
        serializer.instance = notifications.add_contact_method(
            user=signed_in(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        notifications.remove_contact_method(method=instance)


class OwnContactMethodField(serializers.PrimaryKeyRelatedField):
    """Only your own methods: another person's id reads as one that does not exist."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return ContactMethod.objects.none()
        return ContactMethod.objects.filter(user=request.user)


class NotificationRuleSerializer(fields.ModelSerializer):
    contact_method = OwnContactMethodField()
    delay_minutes = serializers.IntegerField(min_value=0, max_value=MAX_DELAY_MINUTES)

    class Meta:
        model = NotificationRule
        fields = ["id", "contact_method", "delay_minutes"]
        read_only_fields = ["id"]


class NotificationRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your notification rules, in order: each sends one contact method this many minutes into a page.

    With no rules, a page emails you at once.
    """

    serializer_class = NotificationRuleSerializer
    queryset = NotificationRule.objects.none()  # for the schema; get_queryset scopes to the signed-in person

    def get_queryset(self):
        return NotificationRule.objects.filter(user=signed_in(self.request))

    def perform_create(self, serializer):
        serializer.instance = notifications.add_notification_rule(
            user=signed_in(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance):
        notifications.remove_notification_rule(rule=instance)


class DeliveryReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "address", "status", "attempts", "sent_at", "receipt", "error"]
        read_only_fields = fields


class TestPageView(APIView):
    """The fire drill: a test notification through every one of your contact methods, with receipts."""

    @extend_schema(responses=DeliveryReceiptSerializer(many=True))
    def get(self, request):
        receipts = selectors.latest_drill(user=signed_in(request))
        return Response(DeliveryReceiptSerializer(receipts, many=True).data)

    @extend_schema(request=None, responses={202: DeliveryReceiptSerializer(many=True)})
    def post(self, request):
        if request.data:  # the drill takes no fields: a typo is refused, not ignored
            if not isinstance(request.data, Mapping):
                raise serializers.ValidationError({"non_field_errors": ["The drill takes no body."]})
            raise serializers.ValidationError(
                {str(name): ["This field is not known."] for name in request.data}
            )
        receipts = notifications.fire_drill(user=signed_in(request))
        return Response(DeliveryReceiptSerializer(receipts, many=True).data, status=status.HTTP_202_ACCEPTED)
