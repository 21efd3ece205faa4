"""The board's columns: kept counts and pages that agree with the filtered items of the API and the CSV."""

import datetime as dt
import io
import itertools
import random

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from alerts_review import services as review_services
from incidents.models import RemediationCount, RemediationItem, RemediationStatus
from incidents.models.remediation import REMEDIATION_COUNTS
from incidents.selectors.board import board_columns, column_counts
from incidents.selectors.remediation import BoardFilters, filtered_items
from incidents.services.incident import delete_incident
from incidents.services.remediation import change_status
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def kept() -> set:
    """The kept counts as a set of rows, leaving out groups that went back to zero."""
    columns = (*REMEDIATION_COUNTS.keys, *REMEDIATION_COUNTS.measures)
    return set(RemediationCount.objects.exclude(total=0).values_list(*columns))


def recounted() -> set:
    REMEDIATION_COUNTS.rebuild(connection)
    return kept()


def test_counts_follow_every_way_items_are_written():
    ops, dev = TeamFactory(slug="ops"), TeamFactory(slug="dev")
    owner = UserFactory()
    incident = IncidentFactory()
    first = RemediationItemFactory(incident=incident, team=ops, kind="dev")
    RemediationItemFactory.create_batch(3, incident=incident, team=dev, kind="ops", category="prevent")
    RemediationItem.objects.bulk_create(
        [
            RemediationItem(
                incident=incident,
                title=f"Bulk {number}",
                kind="dev",
                category="process",
                owner=owner,
                due_date=TODAY + dt.timedelta(days=number),
            )
            for number in range(5)
        ]
    )
    change_status(item=first, status=RemediationStatus.DONE, reason="")
    RemediationItem.objects.filter(title="Bulk 1").update(due_date=TODAY - dt.timedelta(days=9))
    RemediationItem.objects.filter(title="Bulk 2").delete()
    dev.delete()  # its items keep going, with no team
    RemediationItemFactory(incident=IncidentFactory()).incident.delete()  # cascades
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_remediationitem SET kind = 'ops' WHERE title = 'Bulk 3'")

    counts = kept()
    assert sum(row[-1] for row in counts) == RemediationItem.objects.count() == 8
    assert ("dev", "done", ops.pk, "detect", 1) in counts
    assert ("ops", "open", 0, "prevent", 3) in counts
    assert counts == recounted()


def test_rebuild_remediation_counts_repairs_counts_that_drifted():
    RemediationItemFactory.create_batch(3)
    RemediationCount.objects.update(total=99)
    output = io.StringIO()
    call_command("rebuild_remediation_counts", stdout=output)
    assert RemediationCount.objects.get().total == 3
    assert "Recounted 3 remediation items" in output.getvalue()


def test_triggers_a_migration_dropped_are_put_back_and_the_items_recounted():
    RemediationItemFactory()
    REMEDIATION_COUNTS.uninstall(connection)
    RemediationItemFactory()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert REMEDIATION_COUNTS.installed(connection)
    RemediationItemFactory()
    assert sum(column.count for column in board_columns(BoardFilters(), today=TODAY)) == 3
    assert kept() == recounted()


@pytest.fixture
def items() -> list[RemediationItem]:
    """Items of every shape: teams or none, owners named three ways, deleted incidents, no incident."""
    chooser = random.Random(11)
    ops, dev = TeamFactory(slug="ops", name="Ops"), TeamFactory(slug="dev", name="Dev")
    owners = [
        ProfileFactory(user=UserFactory(username="dana"), display_name="Dana Reyes").user,
        UserFactory(username="eli", first_name="Eli", last_name="Moss"),  # no profile
        ProfileFactory(user=UserFactory(username="kim", first_name="", last_name="")).user,
    ]
    incidents = [IncidentFactory(severity=severity) for severity in (1, 2, 3, 3)]
    made = []
    for number in range(70):
        status = chooser.choice(RemediationStatus.values)
        made.append(
            RemediationItemFactory(
                incident=chooser.choice([*incidents, None]),
                kind=chooser.choice(["dev", "ops"]),
                category=chooser.choice(["detect", "prevent", "process"]),
                owner=chooser.choice(owners),
                team=chooser.choice([ops, dev, None]),
                # A few share a due date, so ties are ordered by id.
                due_date=TODAY + dt.timedelta(days=chooser.randrange(-12, 6)),
                status=status,
                completed_at=NOW if status == RemediationStatus.DONE else None,
                wont_do_reason="Superseded." if status == RemediationStatus.WONT_DO else "",
                ticket_url=f"https://tracker.example.com/browse/OPS-{number}" if number % 3 else "",
            )
        )
    delete_incident(incident=incidents[3], by=UserFactory(is_staff=True))
    return made


def expected_columns(filters: BoardFilters, *, page: int, size: int) -> list[tuple[str, int, list[int]]]:
    """What the board must show, from the ORM's filtered_items (the API's and the CSV's)."""
    items = filtered_items(filters, today=TODAY)
    statuses = [filters.status] if filters.status else RemediationStatus.values
    offset = (page - 1) * size if filters.status else 0
    columns = []
    for status in statuses:
        in_column = items.filter(status=status)
        pks = list(in_column.values_list("pk", flat=True)[offset : offset + size])
        columns.append((status, in_column.count(), pks))
    return columns


def shown(filters: BoardFilters, *, page: int = 1, size: int = 4) -> list[tuple[str, int, list[int]]]:
    columns = board_columns(filters, today=TODAY, page=page, size=size)
    return [(column.status, column.count, [row.item.pk for row in column.items]) for column in columns]


def test_the_board_agrees_with_the_filtered_items_for_every_kept_count_filter(items):
    # Every combination the kept counts answer, and, with overdue, the rows' counts beside them.
    for kind, status, team, category, overdue in itertools.product(
        ["", "dev", "ops"],
        ["", *RemediationStatus.values],
        ["", "ops", "dev", "nobody"],
        ["", "prevent"],
        [False, True],
    ):
        filters = BoardFilters(kind=kind, status=status, team=team, category=category, overdue=overdue)
        assert shown(filters) == expected_columns(filters, page=1, size=4), filters


def test_the_board_agrees_with_the_filtered_items_for_any_mix_of_filters_sorts_and_pages(items):
    chooser = random.Random(5)
    incidents = sorted({item.incident_id for item in items if item.incident_id})
    for _ in range(250):
        filters = BoardFilters(
            kind=chooser.choice(["", "dev", "ops"]),
            status=chooser.choice(["", "", *RemediationStatus.values]),
            owner=chooser.choice(["", "dana", "eli", "kim", "nobody"]),
            team=chooser.choice(["", "ops", "dev"]),
            category=chooser.choice(["", "detect", "process"]),
            severity=chooser.choice([None, 1, 3]),
            overdue=chooser.random() < 0.4,
            incident=chooser.choice([None, None, *incidents]),
            descending=chooser.random() < 0.3,
        )
        page = chooser.choice([1, 1, 2, 3])
        assert shown(filters, page=page) == expected_columns(filters, page=page, size=4), (filters, page)


def test_cards_are_the_visible_items_marked_overdue_by_the_items_own_rule(items):
    rows = [row for column in board_columns(BoardFilters(), today=TODAY, size=100) for row in column.items]
    visible = filtered_items(BoardFilters(), today=TODAY)
    assert {row.item.pk for row in rows} == set(visible.values_list("pk", flat=True))
    assert any(row.overdue for row in rows) and not all(row.overdue for row in rows)
    assert all(row.overdue == row.item.is_overdue(TODAY) for row in rows)


def test_an_item_from_an_alerts_review_names_the_review_without_reading_it(django_assert_num_queries):
    ops = TeamFactory(slug="ops", name="Ops")
    reviewer = ProfileFactory(user=UserFactory(username="nina")).user
    action = review_services.act_on_recommendation(
        team=ops,
        month=dt.date(2026, 2, 1),
        check="Disk",
        reason="threshold",
        summary="Disk: raise the threshold",
        track="ops",
        by=reviewer,
        owner=None,
    )
    RemediationItemFactory(kind="ops")
    with django_assert_num_queries(2):  # counts, and the open column's page
        columns = board_columns(BoardFilters(kind="ops"), today=TODAY)
        item = next(row.item for row in columns[0].items if row.item.pk == action.remediation_id)
        assert item.origin_title == "Ops alerts review, February 2026"
        assert item.get_absolute_url() == "/alerts/reports/2026-02/?team=ops#review"


def test_the_board_runs_a_query_per_column_shown_however_many_items(django_assert_num_queries):
    """The benchmark's page (overdue dev items): counts, then the two unfinished columns' pages."""
    filters = BoardFilters(kind="dev", overdue=True)
    RemediationItemFactory.create_batch(3, kind="dev", due_date=TODAY - dt.timedelta(days=3))
    with django_assert_num_queries(2):
        board_columns(filters, today=TODAY)
    RemediationItemFactory.create_batch(
        40, kind="dev", due_date=TODAY - dt.timedelta(days=5), status=RemediationStatus.IN_PROGRESS
    )
    with django_assert_num_queries(3):
        columns = board_columns(filters, today=TODAY)
    assert [(column.count, len(column.items)) for column in columns] == [(3, 3), (40, 25), (0, 0), (0, 0)]


def test_nothing_to_show_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        columns = board_columns(BoardFilters(kind="dev"), today=TODAY)
    assert [column.count for column in columns] == [0, 0, 0, 0]


def test_kept_counts_leave_out_items_of_deleted_incidents():
    team = TeamFactory(slug="ops")
    incident = IncidentFactory()
    RemediationItemFactory.create_batch(2, incident=incident, team=team)
    RemediationItemFactory(team=team)
    filters = BoardFilters(kind="dev", team="ops", category="detect")
    assert column_counts(filters, today=TODAY) == {"open": 3}
    delete_incident(incident=incident, by=UserFactory(is_staff=True))
    assert column_counts(filters, today=TODAY) == {"open": 1}
    assert column_counts(BoardFilters(), today=TODAY) == {"open": 1}


def test_an_id_too_large_for_the_database_matches_nothing(browser_client):
    RemediationItemFactory()
    response = browser_client.get(f"/remediations/?incident={10**20}")
    assert response.status_code == 200
    assert [column.count for column in response.context["columns"]] == [0, 0, 0, 0]
    assert board_columns(BoardFilters(severity=10**20), today=TODAY)[0].count == 0


def test_counts_that_drifted_are_recounted_after_migrate_or_flush():
    # SQLite's flush may empty the counts before the items; deleting the items then leaves negatives.
    RemediationItemFactory.create_batch(3)
    RemediationCount.objects.all().delete()
    RemediationItem.objects.all().delete()
    assert RemediationCount.objects.filter(total__lt=0).exists()
    assert REMEDIATION_COUNTS.drifted(connection)

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert kept() == set()
    assert not REMEDIATION_COUNTS.drifted(connection)
    RemediationItemFactory()
    assert sum(column.count for column in board_columns(BoardFilters(), today=TODAY)) == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INSERT OR REPLACE is SQLite's")
def test_rows_that_insert_or_replace_removes_are_counted_out():
    item = RemediationItemFactory(kind="dev")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT OR REPLACE INTO incidents_remediationitem SELECT * FROM incidents_remediationitem "
            "WHERE id = %s",
            [item.pk],
        )
        cursor.execute("UPDATE incidents_remediationitem SET kind = 'ops' WHERE id = %s", [item.pk])
    assert column_counts(BoardFilters(), today=TODAY) == {"open": 1}
    assert kept() == recounted()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE fires its own trigger on PostgreSQL")
@pytest.mark.django_db(transaction=True)  # committed rows: no foreign-key checks pending
def test_truncating_the_items_empties_their_counts():
    RemediationItemFactory.create_batch(2)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE incidents_remediationitem CASCADE")
    assert kept() == set()
    assert column_counts(BoardFilters(), today=TODAY) == {}
