"""The incident list's count comes from counts the database keeps, and always equals counting the rows."""

import datetime as dt
import itertools
import re

import pytest
from django.utils import timezone

from incidents.models import Incident
from incidents.selectors.incident import IncidentFilters, count_incidents, incident_list
from incidents.services.incident import delete_incident, restore_incident
from tests.factories import IncidentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def assert_every_total_is_a_count(*, teams: tuple[str, ...]) -> None:
    """The list's total (from the kept counts) equals counting the rows, for each filter it sums over."""
    for status, severity, team, deleted in itertools.product(
        ["", "open", "resolved", "closed"], [None, 1, 2, 3], ["", *teams], [False, True]
    ):
        filters = IncidentFilters(status=status, severity=severity, team=team, deleted=deleted)
        assert count_incidents(filters=filters) == incident_list(filters=filters).count(), filters


def shown_total(client, query: str = "") -> str:
    """The total the list page states above its rows."""
    html = client.get(f"/incidents/?{query}").content.decode()
    return re.search(r"(\d+) incidents?;", html).group(1)


def test_the_list_total_follows_creation_edits_deletion_and_cascades(api, client, staff):
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

    assert_every_total_is_a_count(teams=("ops", "dev"))
    assert api.get("/api/v1/incidents/").json()["count"] == 4
    assert api.get("/api/v1/incidents/?status=open").json()["count"] == 2  # one restored, one never deleted
    assert api.get("/api/v1/incidents/?team=ops").json()["count"] == 2
    assert api.get("/api/v1/incidents/?severity=3").json()["count"] == 3
    client.force_login(staff)
    assert shown_total(client) == "4"
    assert shown_total(client, "deleted=on") == "1"  # deleted, and its team is gone
    assert shown_total(client, "deleted=on&severity=1&status=resolved") == "1"


def test_the_kept_count_equals_counting_for_every_simple_filter():
    ops = TeamFactory(slug="ops")
    for number in range(12):
        IncidentFactory(
            team=ops if number % 2 else None,
            severity=1 + number % 3,
            status=["open", "resolved", "closed"][number % 3],
            deleted_at=timezone.now() if number % 5 == 0 else None,
        )
    assert_every_total_is_a_count(teams=("ops", "nobody"))


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
