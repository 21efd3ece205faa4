import datetime as dt

from django.core.exceptions import ValidationError

from .timezones import UnknownTimeZone, check_time_zone


def validate_time_zone(value: str) -> None:
    try:
        check_time_zone(value)
    except UnknownTimeZone as error:
        raise ValidationError(str(error), code="invalid_time_zone") from error


# Incidents, deploys and timeline events are records of real events; a year
# outside this range is a typo, and near year 1 or 9999 the window arithmetic
# (an hour before impact, a day per chart bar) overflows or never ends.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100


def is_plausible(value: dt.date) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def validate_plausible_instant(value: dt.date) -> None:
    if not is_plausible(value):
        raise ValidationError(
            "Give a date between %(earliest)s and %(latest)s, not the year %(year)s.",
            params={"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR, "year": value.year},
            code="implausible_date",
        )
