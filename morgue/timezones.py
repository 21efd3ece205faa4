"""IANA time-zone names, validated against zoneinfo: the one rule and its sentence (no Django here).

Every path that accepts a zone name (model fields, API serializers, forms, query
parameters, management commands) asks `check_time_zone`, so they accept the same
names and refuse the rest with the same sentence.
"""

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


class UnknownTimeZone(ValueError):
    """A name that is not an IANA zone zoneinfo knows; str() is the sentence shown to people."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not a known IANA time zone (for example Europe/London).")
        self.name = name


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in known_time_zones()


def check_time_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a name, or UnknownTimeZone naming it."""
    if not is_time_zone(name):
        raise UnknownTimeZone(name)
    return ZoneInfo(name)


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a stored (already validated) name; UTC for an empty or unknown one."""
    return ZoneInfo(name) if is_time_zone(name) else ZoneInfo("UTC")
