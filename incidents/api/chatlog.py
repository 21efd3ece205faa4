from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from morgue import fields
from morgue.auth import signed_in
from morgue.fields import JSONParser, TimeZoneField
from morgue.timezones import zone

from ..services.chatlog import ChatImport, SlackChoice, import_chat_log, pick_from_slack_export
from ..slack_export import MAX_ZIP_BYTES, looks_like_zip
from .deploy import visible_incident

MAX_EXPORT_BYTES = 2 * 1024 * 1024


class ChatLogWriteSerializer(fields.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    file = serializers.FileField(
        required=False,
        default=None,
        help_text="a client's log, a Slack export ZIP, or one channel's Slack JSON",
    )
    channel = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=100,
        help_text="the channel to read from a Slack export ZIP; default: the busiest on the incident's days",
    )
    days = serializers.ListField(
        child=serializers.DateField(),
        required=False,
        default=list,
        max_length=366,
        help_text="the days to read from a Slack export ZIP; default: those the incident overlaps",
    )
    dry_run = serializers.BooleanField(required=False, default=False)
    confirm_dates = serializers.BooleanField(
        required=False, default=False, help_text="import lines dated far from the incident anyway"
    )
    time_zone = TimeZoneField(
        required=False,
        default="",
        allow_blank=True,
        help_text="IANA zone the log's times are in; default: yours",
    )

    def validate(self, data):
        upload = data.pop("file")
        data["slack_zip"] = None
        if upload is not None and looks_like_zip(upload.name or "", upload.read(4)):
            upload.seek(0)
            content = upload.read(MAX_ZIP_BYTES + 1)
            if len(content) > MAX_ZIP_BYTES:
                raise serializers.ValidationError(
                    {"file": f"The archive is larger than the {MAX_ZIP_BYTES // (1024 * 1024)} MB limit."}
                )
            data["slack_zip"] = content
            return data
        if upload is not None:
            upload.seek(0)
            content = upload.read(MAX_EXPORT_BYTES + 1)
            if len(content) > MAX_EXPORT_BYTES:
                raise serializers.ValidationError({"file": "The file is larger than the 2 MB limit."})
            try:
                data["text"] = content.decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise serializers.ValidationError({"file": "The file is not UTF-8 text."}) from error
        if not data["text"].strip():
            raise serializers.ValidationError({"text": "Paste a chat log or upload a Slack export."})
        return data


class ChatLineSerializer(fields.Serializer):
    line_number = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    speaker = serializers.CharField()
    text = serializers.CharField()
    new = serializers.BooleanField(help_text="false when the timeline already has this line")


class UnparsedLineSerializer(fields.Serializer):
    line_number = serializers.IntegerField()
    line = serializers.CharField()


class ChatImportSerializer(fields.Serializer):
    imported = serializers.IntegerField(help_text="events added (on a dry run: that would be added)")
    dry_run = serializers.BooleanField()
    skipped = serializers.IntegerField(help_text="joins, quits, topic changes and the like, left out")
    far_dates = serializers.CharField(
        help_text="how many lines are dated far from the incident (confirm_dates imports them), or empty"
    )
    channel = serializers.CharField(help_text="the Slack channel read from an export ZIP, or empty")
    days = serializers.ListField(child=serializers.DateField(), help_text="the export's days that were read")
    events = ChatLineSerializer(many=True)
    unparsed = UnparsedLineSerializer(many=True)


def chat_import_data(result: ChatImport, slack: SlackChoice | None = None) -> dict:
    return {
        "imported": result.imported,
        "dry_run": result.dry_run,
        "skipped": result.skipped,
        "far_dates": result.far_dates,
        "channel": slack.channel if slack else "",
        "days": slack.days if slack else [],
        "events": [
            {
                "line_number": line.line_number,
                "occurred_at": line.occurred_at,
                "speaker": line.speaker,
                "text": line.text,
                "new": new,
            }
            for line, new in zip(result.lines, result.new, strict=True)
        ],
        "unparsed": [{"line_number": line.line_number, "line": line.line} for line in result.unparsed],
    }


class IncidentChatLogView(APIView):
    """Import a war-room chat log (an IRC client's log or a Slack export) into the incident's timeline."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=ChatLogWriteSerializer, responses=ChatImportSerializer)
    def post(self, request: Request, incident_id: int) -> Response:
        incident = visible_incident(incident_id, to_edit_by=request.user)
        serializer = ChatLogWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile = getattr(request.user, "profile", None)
        time_zone = data["time_zone"] or (profile.time_zone if profile else "UTC")
        slack = None
        if data["slack_zip"] is not None:
            slack = pick_from_slack_export(
                incident=incident,
                data=data["slack_zip"],
                channel=data["channel"],
                days=data["days"],
                zone=zone(time_zone),
            )
        result = import_chat_log(
            incident=incident,
            text=slack.text if slack else data["text"],
            zone=zone(time_zone),
            dry_run=data["dry_run"],
            confirm_dates=data["confirm_dates"],
            user=signed_in(request),
        )
        return Response(ChatImportSerializer(chat_import_data(result, slack)).data)
