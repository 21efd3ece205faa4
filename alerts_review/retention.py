"""Keeping alerts for a while, on purpose: pruning the ones past retention while the reports stay.

The monthly report of a month reads the kept counts (AlertDayCount,
AlertHourCount), not the alerts. Deleting an alert fires the counting
triggers, which would take it out of the counts; so each batch of alerts is
first counted once more (`Counts.keep_sql`) in the same transaction, and the
triggers take back exactly that. `AlertsPruned` records the cutoff, so a
recount (`Counts.ensure` after a migration, `rebuild_alert_counts`) leaves
the counts before it alone instead of recounting them from no alerts.

Alerts stored during a maintenance window stay: the report counts them from
the alerts. So do those of each month's first and last UTC day: a report in
a zone other than UTC counts the hours of its month's edges that fall there
from the alerts (a zone's offset is under a day). Only a report in a zone
with a half-hour offset (India, Nepal) counts a whole month from the alerts:
its figures of pruned months are gone. Alertmanager's truncation notes stay too: the report reads them
(one small row per notification). Pages, incidents and postmortems are never
pruned; a page keeps its own record, and loses only its list of alerts.
"""

import calendar
import datetime as dt
import re

from django.db import connection, transaction
from django.utils import timezone

from .models import ALERT_COUNTS, Alert, AlertsPruned, PagingDecision

MINIMUM_MONTHS = 3
BATCH = 2000
# A month's first and last UTC day: outside UTC, a report counts part of them from the alerts.
EDGE = dt.timedelta(days=1)


class RetentionTooShort(ValueError):
    pass


def parse_age(text: str) -> tuple[int, str]:
    """'13m' → (13, 'm'), '400d' → (400, 'd'); ValueError naming the problem otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([md])\s*", text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age: write a number of months or days, like 13m or 400d")
    return int(match.group(1)), match.group(2)


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


def cutoff(amount: int, unit: str, *, today: dt.date | None = None) -> dt.datetime:
    """The instant before which alerts are past retention: a calendar month's (or day's) start, UTC.

    Months count back from the first of this month, so a month is pruned
    whole or not at all. Less than three months is refused.
    """
    today = today or timezone.now().astimezone(dt.UTC).date()
    start = _months_back(today, amount) if unit == "m" else today - dt.timedelta(days=amount)
    first = _months_back(today, MINIMUM_MONTHS)
    shortest = first.replace(day=min(today.day, calendar.monthrange(first.year, first.month)[1]))
    if start > shortest:
        raise RetentionTooShort(
            f"alerts are kept at least {MINIMUM_MONTHS} months; {amount}{unit} is shorter"
        )
    return dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)


def _inner_spans(first: dt.datetime, before: dt.datetime):
    """Each month's alerts from `first`'s month to `before`, but its first and last UTC day."""
    month = first.astimezone(dt.UTC).date().replace(day=1)
    while True:
        start = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
        if start >= before:
            return
        following = _months_back(month, -1)
        end = min(dt.datetime.combine(following, dt.time(), tzinfo=dt.UTC), before)
        yield start + EDGE, end - EDGE
        month = following


def prune_alerts(before: dt.datetime) -> int:
    """Delete the alerts fired before `before`, but those the reports still read; how many.

    Kept: alerts during maintenance, and those of each month's first and
    last UTC day, which a report in another zone counts from the alerts.
    """
    with transaction.atomic():
        floor = AlertsPruned.objects.order_by("-before").values_list("before", flat=True).first()
        if floor is None or floor < before:
            AlertsPruned.objects.all().delete()
            AlertsPruned.objects.create(before=before)
    first = Alert.objects.filter(fired_at__lt=before).order_by("fired_at").values_list("fired_at", flat=True)
    oldest = first.first()
    if oldest is None:
        return 0
    pruned = 0
    for since, until in _inner_spans(oldest, before):
        doomed = Alert.objects.filter(fired_at__gte=since, fired_at__lt=until).exclude(
            paging=PagingDecision.MAINTENANCE
        )
        pruned += _delete_keeping_counts(doomed)
    return pruned


def _delete_keeping_counts(doomed) -> int:
    pruned = 0
    while True:
        with transaction.atomic():
            ids = list(doomed.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not ids:
                return pruned
            where = f"id IN ({', '.join(str(int(pk)) for pk in ids)})"
            with connection.cursor() as cursor:
                for counts in ALERT_COUNTS:
                    cursor.execute(counts.keep_sql(where))
            # The ORM deletes the alerts' silences with them and leaves pages be.
            Alert.objects.filter(pk__in=ids).delete()
            pruned += len(ids)
