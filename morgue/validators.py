from django.core.exceptions import ValidationError

from .timezones import is_time_zone


def validate_time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(
            "%(value)s is not a known IANA time zone (for example Europe/London).",
            params={"value": value},
            code="invalid_time_zone",
        )
