"""GET /api/v1/audit/: the trail for staff scripts, filtered like /audit/, paged by cursor. Read-only."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated

from morgue.models import AuditEntry
from morgue.permissions import site_rule
from morgue.rest import KeysetPagination

from .forms import AuditFilterForm
from .selectors import audit_entries


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label", help_text="The user name; empty for the system.")
    actor_id = serializers.IntegerField(allow_null=True, read_only=True)
    changes = serializers.DictField(
        child=serializers.ListField(), help_text="Each changed field: [before, after]."
    )
    labels = serializers.DictField(child=serializers.CharField(), help_text="What people call each field.")

    class Meta:
        model = AuditEntry
        fields = [
            "id", "at", "actor", "actor_id", "ip", "request_id", "action", "kind", "object_id",
            "object_label", "changes", "labels",
        ]  # fmt: skip
        read_only_fields = fields


class AuditPagination(KeysetPagination):
    position = "at"
    noun = "Audit entries"


@extend_schema(
    parameters=[
        OpenApiParameter(name, str, description=description)
        for name, description in (
            ("actor", 'A user name, or "system".'),
            ("kind", "The object's model, as app_label.model_name (incidents.incident)."),
            ("object_id", "The object's id."),
            ("action", "created, changed, deleted, restored, signed in, sign-in failed, …"),
            ("since", "The first day (YYYY-MM-DD), in your time zone."),
            ("until", "The last day, included."),
        )
    ]
)
class AuditEntryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail, newest first; staff only, and nothing here writes."""

    serializer_class = AuditEntrySerializer
    pagination_class = AuditPagination
    permission_classes = [IsAuthenticated, site_rule("read", "audit")]

    def get_queryset(self):
        form = AuditFilterForm(self.request.query_params)
        if not form.is_valid():
            refused = {name: [str(error) for error in errors] for name, errors in form.errors.items()}
            raise ValidationError(refused)
        return audit_entries(form.filters())
