"""Serializer fields and parsers shared by every app's API.

Apart from morgue.rest, which DRF imports from its settings while it is still
loading: these import DRF's serializers and parsers, which would be circular there.
"""

from typing import TYPE_CHECKING

from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser as DrfJSONParser

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


class JSONParser(DrfJSONParser):
    """DRF's JSON parser, with a body nested past Python's recursion limit refused as a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("The JSON body is nested too deeply to read.") from error


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
        return super().to_internal_value(data)


class Serializer(RefuseUnknownFields, serializers.Serializer):
    """The base of every API write serializer that is not a model serializer."""


class ModelSerializer(RefuseUnknownFields, serializers.ModelSerializer):
    """The base of every API model serializer."""
