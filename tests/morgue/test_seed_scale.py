"""`seed_scale` loads a large organisation, scaled: here a tiny one, its counts and its pages."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from alerts_review.models import ALERT_DAY_COUNTS, ALERT_HOUR_COUNTS, Alert, AlertSource
from incidents.models import Deploy, Incident, RemediationItem, TimelineEvent
from incidents.models.incident import INCIDENT_COUNTS
from incidents.models.remediation import REMEDIATION_COUNTS
from morgue.models import Profile, Team
from oncall.models import Rotation, Shift

SCALE = 0.002
KEPT_COUNTS = (INCIDENT_COUNTS, REMEDIATION_COUNTS, ALERT_DAY_COUNTS, ALERT_HOUR_COUNTS)


@pytest.fixture
def organisation(db):
    out = io.StringIO()
    call_command("seed_scale", scale=SCALE, stdout=out)
    return out.getvalue()


def _counts_rows(counts) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {counts.table} WHERE total <> 0 ORDER BY 2, 3, 4, 5")  # noqa: S608 (a table name of ours)
        return [row[1:] for row in cursor.fetchall()]  # without the id


def test_the_organisation_has_each_kind_of_row_in_proportion(organisation):
    assert "at scale 0.002 is in place" in organisation
    assert get_user_model().objects.count() == 12  # the minimum: 500 × 0.002 is one person
    assert Profile.objects.count() == 12
    assert Team.objects.count() == 3
    assert Rotation.objects.count() == 2
    assert Shift.objects.filter(starts_at__year__lte=2022).exists()  # five years of history
    assert Incident.objects.count() == 40
    assert TimelineEvent.objects.count() > 40 * 4
    assert Deploy.objects.count() == 400
    assert RemediationItem.objects.count() == 120
    assert Alert.objects.count() == 2000
    assert Alert.objects.values("check_name").distinct().count() > 1
    assert Alert.objects.filter(paged__isnull=False).exists()
    assert "```" in Incident.objects.exclude(what_happened="").first().what_happened


def test_the_kept_counts_agree_with_a_recount(organisation):
    for counts in KEPT_COUNTS:
        kept = _counts_rows(counts)
        assert kept, counts.table
        counts.rebuild(connection)
        assert _counts_rows(counts) == kept, counts.table


def test_the_same_scale_gives_the_same_organisation(organisation):
    titles = list(Incident.objects.order_by("impact_started_at").values_list("title", flat=True))
    checks = list(Alert.objects.order_by("fired_at").values_list("check_name", flat=True)[:200])
    Alert.objects.all().delete()
    RemediationItem.objects.all().delete()
    Incident.objects.all().delete()
    Deploy.objects.all().delete()
    Shift.objects.all().delete()
    Rotation.objects.all().delete()
    Team.objects.all().delete()
    AlertSource.objects.all().delete()
    get_user_model().objects.all().delete()
    call_command("seed_scale", scale=SCALE, stdout=io.StringIO())
    assert list(Incident.objects.order_by("impact_started_at").values_list("title", flat=True)) == titles
    assert list(Alert.objects.order_by("fired_at").values_list("check_name", flat=True)[:200]) == checks


def test_a_database_with_teams_is_refused(db):
    Team.objects.create(name="Ops", slug="ops")
    with pytest.raises(CommandError, match="empty"):
        call_command("seed_scale", scale=SCALE, stdout=io.StringIO())


def test_pages_render_on_the_organisation(organisation):
    client = Client()
    client.force_login(get_user_model().objects.get(username="person0001"))
    for address in [
        "/",
        "/incidents/",
        "/incidents/?q=checkout",
        "/incidents/review-queue/",
        "/reports/incidents/",
        "/alerts/",
        "/alerts/reports/",
        "/remediations/",
        "/deploys/",
        "/api/v1/alerts/",
        "/api/v1/incidents/",
    ]:
        response = client.get(address, follow=True)
        assert response.status_code == 200, address


def test_the_benchmark_floors_are_not_served_by_morgue(client, person):
    # bench/floor_urls.py is mounted only by bench/settings.py, under gunicorn in `make bench`.
    client.force_login(person)
    assert client.get("/bench-floor/home/").status_code == 404
