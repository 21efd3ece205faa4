import datetime as dt

import pytest
from django.db.models import Count

from incidents.models import RemediationItem, RemediationItemQuerySet, RemediationStatus
from tests.factories import RemediationItemFactory


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://jira.example.com/browse/OPS-123", "OPS-123"),
        ("https://jira.example.com/browse/PAY2-17?focusedCommentId=9", "PAY2-17"),
        ("https://linear.app/acme/issue/WEB-4512/fix-cache", "WEB-4512"),
        ("https://github.com/acme/web/issues/812", ""),
        ("https://tracker.example.com/ops-123", ""),
        ("", ""),
    ],
)
def test_ticket_key_is_shown_when_the_url_carries_one(url, key):
    assert RemediationItem(ticket_url=url).ticket_key == key


def test_overdue_means_unfinished_and_past_the_due_date():
    item = RemediationItem(due_date=dt.date(2026, 3, 1), status="open")

    assert item.is_overdue(dt.date(2026, 3, 2))
    assert not item.is_overdue(dt.date(2026, 3, 1))
    item.status = "done"
    assert not item.is_overdue(dt.date(2026, 3, 2))


def test_completed_on_time_compares_the_utc_day_with_the_due_date():
    item = RemediationItem(due_date=dt.date(2026, 3, 1), status="done")

    item.completed_at = dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC)
    assert item.completed_on_time is True
    item.completed_at = dt.datetime(2026, 3, 2, 0, 1, tzinfo=dt.UTC)
    assert item.completed_on_time is False


@pytest.mark.django_db
def test_the_overdue_filter_and_the_items_own_rule_agree_on_the_same_rows():
    today = dt.date(2026, 3, 2)
    for status in RemediationStatus.values:
        for days in (-30, -1, 0, 1, 30):
            RemediationItemFactory(
                status=status,
                due_date=today + dt.timedelta(days=days),
                completed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC) if status == "done" else None,
                wont_do_reason="Superseded." if status == "wont-do" else "",
            )

    filtered = set(RemediationItem.objects.overdue(today).values_list("pk", flat=True))
    counted = RemediationItem.objects.aggregate(
        overdue=Count("id", filter=RemediationItemQuerySet.overdue_condition(today))
    )["overdue"]

    assert filtered == {item.pk for item in RemediationItem.objects.all() if item.is_overdue(today)}
    assert len(filtered) == counted == 4  # open and in progress, due a month or a day ago
