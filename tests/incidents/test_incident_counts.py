"""The incident list's count comes from counts the database keeps, and always equals counting the rows."""

import datetime as dt
import itertools

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Incident, IncidentCount
from incidents.models.incident import INCIDENT_COUNTS
from incidents.selectors.incident import IncidentFilters, count_incidents, incident_list
from incidents.services.incident import delete_incident, restore_incident
from tests.factories import IncidentFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def kept() -> set[tuple]:
    return set(
        IncidentCount.objects.exclude(total=0).values_list(
            "status", "severity", "team_key", "deleted", "total"
        )
    )


def test_counts_follow_creation_edits_deletion_and_cascades():
    staff = UserFactory(is_staff=True)
    ops, dev = TeamFactory(slug="ops"), TeamFactory(slug="dev")
    incidents = [
        IncidentFactory(team=team, severity=severity) for team in (ops, dev, None) for severity in (1, 3)
    ]
    Incident.objects.filter(severity=1).update(status="resolved")
    incidents[1].status = "closed"
    incidents[1].save()
    delete_incident(incident=incidents[2], by=staff)
    delete_incident(incident=incidents[3], by=staff)
    restore_incident(incident=incidents[3], by=staff)
    incidents[4].delete()
    dev.delete()  # its incidents keep going, with no team

    assert sum(row[-1] for row in kept()) == Incident.objects.count() == 5
    assert kept() == {
        ("resolved", 1, ops.pk, False, 1),
        ("closed", 3, ops.pk, False, 1),
        ("resolved", 1, 0, True, 1),  # deleted, and its team is gone
        ("open", 3, 0, False, 2),  # one restored, one that never had a team
    }
    before = kept()
    INCIDENT_COUNTS.rebuild(connection)
    assert kept() == before


def test_the_kept_count_equals_counting_for_every_simple_filter():
    ops = TeamFactory(slug="ops")
    for number in range(12):
        IncidentFactory(
            team=ops if number % 2 else None,
            severity=1 + number % 3,
            status=["open", "resolved", "closed"][number % 3],
            deleted_at=timezone.now() if number % 5 == 0 else None,
        )
    for status, severity, team, deleted in itertools.product(
        ["", "open", "closed"], [None, 1, 2], ["", "ops", "nobody"], [False, True]
    ):
        filters = IncidentFilters(status=status, severity=severity, team=team, deleted=deleted)
        assert count_incidents(filters=filters) == incident_list(filters=filters).count(), filters


def test_other_filters_are_counted():
    IncidentFactory(tags=["database"])
    IncidentFactory(impact_started_at=timezone.now() - dt.timedelta(days=40))
    assert count_incidents(filters=IncidentFilters(tag="database")) == 1
    assert count_incidents(filters=IncidentFilters(started_after=timezone.now() - dt.timedelta(days=2))) == 1
    searched = IncidentFilters(search="Incident")
    assert count_incidents(filters=searched) == incident_list(filters=searched).count()


def test_the_list_shows_tags_without_a_query_per_page_or_row(
    browser_client, api, django_assert_max_num_queries
):
    for number in range(30):
        IncidentFactory(tags=["cache", f"tag-{number % 4}"] if number % 3 else [])
    with django_assert_max_num_queries(9):
        response = browser_client.get("/incidents/")
    assert response.status_code == 200
    assert response.content.count(b'<span class="badge">cache</span>') == 20
    body = api.get("/api/v1/incidents/?page_size=50").json()
    assert body["count"] == 30
    tags = [row["tags"] for row in body["results"]]
    assert tags.count([]) == 10 and all(row == sorted(row) for row in tags)
    assert ["cache", "tag-1"] in tags
