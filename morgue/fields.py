"""Serializer fields and parsers shared by every app's API.

Apart from morgue.rest, which DRF imports from its settings while it is still
loading: these import DRF's serializers and parsers, which would be circular there.
"""

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
