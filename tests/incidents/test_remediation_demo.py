import datetime as dt
import io

from django.db.models import Count

from incidents import demo_remediation
from incidents.models import RemediationItem
from morgue import demo as people_demo
from tests.factories import IncidentFactory


def test_demo_gives_each_incident_two_to_six_items_of_both_kinds_once(db):
    people_demo.seed()
    for days in (3, 40, 120, 400):
        IncidentFactory(impact_started_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days))

    demo_remediation.seed(stdout=io.StringIO())
    first = RemediationItem.objects.count()
    demo_remediation.seed(stdout=io.StringIO())

    assert RemediationItem.objects.count() == first
    per_incident = RemediationItem.objects.values("incident").annotate(
        n=Count("id"), kinds=Count("kind", distinct=True)
    )
    assert all(2 <= row["n"] <= 6 and row["kinds"] == 2 for row in per_incident)
    assert len(per_incident) == 4


def test_demo_is_a_no_op_without_incidents(db):
    out = io.StringIO()

    demo_remediation.seed(stdout=out)

    assert "nothing to add" in out.getvalue()


def test_closed_demo_incidents_have_no_open_items(demo):
    from incidents.models import Incident, RemediationItem, Status

    assert Incident.objects.filter(status=Status.CLOSED).exists()
    assert not RemediationItem.objects.filter(
        incident__status=Status.CLOSED, status__in=["open", "in-progress"]
    ).exists()
