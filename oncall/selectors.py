"""Reads about who is on call."""

import datetime as dt

from .models import Level, Shift, Team


def person_on_call(*, team: Team, at: dt.datetime, level: str = Level.L1):
    """The person holding `level` for `team` at an instant, or None when nobody does."""
    shift = (
        Shift.objects.covering(at)
        .filter(rotation__team=team, level=level)
        .select_related("user")
        .order_by("rotation_id")
        .first()
    )
    return shift.user if shift else None
