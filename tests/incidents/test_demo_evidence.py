import datetime as dt

import pytest

from incidents import demo_evidence
from incidents.models import Deploy, DeployLink, GraphSnapshot
from incidents.selectors.deploy import deploy_related_incidents
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def test_the_demo_loads_a_year_of_deploys_without_incidents_and_changes_nothing_the_second_time():
    demo_evidence.seed()
    count = Deploy.objects.count()
    assert 1300 <= count <= 1700
    weekend = sum(1 for deploy in Deploy.objects.all() if deploy.started_at.weekday() >= 5)
    assert weekend < count * 0.05
    demo_evidence.seed()
    assert Deploy.objects.count() == count


def test_the_demo_links_deploy_related_incidents_and_stores_graphs():
    incident = IncidentFactory(
        title="Listings 500s after a deploy", impact_started_at=dt.datetime(2026, 3, 4, 14, 0, tzinfo=dt.UTC)
    )
    IncidentFactory(title="Vendor outage")
    demo_evidence.seed()
    demo_evidence.seed()
    assert list(deploy_related_incidents()) == [incident]
    assert DeployLink.objects.count() == 1
    snapshot = GraphSnapshot.objects.get()
    assert snapshot.status == "captured"
    with snapshot.image.open("rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_drawn_graph_is_a_valid_png():
    png = demo_evidence.render_graph_png([1, 5, 2, 8], width=40, height=20)
    from incidents.fetch import check_image

    assert check_image(png).content_type == "image/png"
