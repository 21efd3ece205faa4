"""Serializer fields and parsers shared by every app's API.

Apart from morgue.rest, which DRF imports from its settings while it is still
loading: these import DRF's serializers and parsers, which would be circular there.
"""

from typing import TYPE_CHECKING

from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser as DrfJSONParser
from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from .text import unreadable_anywhere
from .timezones import UnknownTimeZone, check_time_zone


class TimeZoneField(serializers.CharField):
    """An IANA zone name, checked by the one time-zone rule (morgue.timezones)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "an IANA time zone such as Europe/London")
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        name = super().to_internal_value(data)
        if name:
            try:
                check_time_zone(name)
            except UnknownTimeZone as error:
                raise serializers.ValidationError(str(error), code="invalid_time_zone") from error
        return name


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
        "example": "22:00",
        "description": "A wall-clock time, HH:MM, in the person's own time zone.",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day on the local wall clock (sleep hours, a handoff).

    The schema's `format: time` means an RFC 3339 time with an offset
    (`22:00:00Z`); a wall-clock time has none, so it is described by a pattern.
    """


class JSONParser(DrfJSONParser):
    """DRF's JSON parser, with a body nested past Python's recursion limit refused as a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("The JSON body is nested too deeply to read.") from error


class JSONRenderer(DrfJSONRenderer):
    """DRF's JSON renderer, writing a lone surrogate as a JSON escape rather than failing with a 500.

    Error sentences quote what the client sent (`“a\\ud800b” is not a valid
    choice`); a lone surrogate cannot be encoded as UTF-8, but JSON can carry it
    as `\\ud800`, which is what the client sent in the first place.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return AsciiJSONRenderer().render(data, accepted_media_type, renderer_context)


class AsciiJSONRenderer(DrfJSONRenderer):
    ensure_ascii = True


if TYPE_CHECKING:
    # What the mixin is mixed into, so its `self.fields` and `super()` are checked.
    _SerializerMixin = serializers.Serializer
else:
    _SerializerMixin = object


class RefuseUnknownFields(_SerializerMixin):
    """A serializer mixin: a body naming a field the endpoint does not take is a 400 naming it.

    Without it DRF ignores unknown keys, so a typo (`sevrity`, `due_on`) is
    silently dropped and the default saved. Read-only fields are known, so a
    script may send back what it read (they are ignored, as DRF does). Every
    API serializer inherits `Serializer` or `ModelSerializer` below
    (tests/morgue/test_unknown_fields.py checks every write endpoint).

    Text no database can hold (a NUL, a lone surrogate) is refused here too,
    in any field, before a field looks it up: PostgreSQL refuses NUL in a
    query's parameters, so a slug or username carrying one would be a 500.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            known = set(self.fields)
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [f"{name} is not a field here; the fields are {', '.join(sorted(known))}."]
                        for name in unknown
                    }
                )
            unreadable = {
                str(name): [f"{name} {reason}."]
                for name, value in data.items()
                if (reason := unreadable_anywhere(value))
            }
            if unreadable:
                raise serializers.ValidationError(unreadable)
        return super().to_internal_value(data)


class Serializer(RefuseUnknownFields, serializers.Serializer):
    """The base of every API write serializer that is not a model serializer."""


class ModelSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """The base of every API model serializer."""
