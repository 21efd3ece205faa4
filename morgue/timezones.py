"""IANA time-zone names, validated against zoneinfo (no Django here)."""

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in known_time_zones()


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for a validated name; UTC for an empty or unknown one."""
    return ZoneInfo(name) if is_time_zone(name) else ZoneInfo("UTC")
