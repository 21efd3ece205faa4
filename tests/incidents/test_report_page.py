import datetime as dt

import pytest
import time_machine

from incidents.models import Incident, Status

NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)


def _incidents(count: int, *, start: dt.datetime, detect_minutes: int, resolve_minutes: int):
    for index in range(count):
        started = start + dt.timedelta(days=index)
        Incident.objects.create(
            title=f"Incident {index}",
            severity=1 + index % 5,
            status=Status.RESOLVED,
            impact_started_at=started,
            detected_at=started + dt.timedelta(minutes=detect_minutes + index),
            resolved_at=started + dt.timedelta(minutes=detect_minutes + index + resolve_minutes),
        )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.django_db
def test_report_page_shows_medians_with_n_and_charts(browser_client, frozen, django_assert_max_num_queries):
    _incidents(12, start=dt.datetime(2026, 3, 25, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)

    with django_assert_max_num_queries(14):
        response = browser_client.get("/reports/incidents/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "12</strong> incidents started" in html
    assert "outlier-sensitive" in html
    assert html.count("<svg") >= 6
    assert "Faded bars have fewer than 10 incidents: 2026-03, 2026-04" in html


@pytest.mark.django_db
def test_comparing_similar_periods_says_not_distinguishable(browser_client, frozen):
    _incidents(15, start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), detect_minutes=10, resolve_minutes=60)
    _incidents(15, start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC), detect_minutes=10, resolve_minutes=60)

    response = browser_client.get(
        "/reports/incidents/",
        {
            "since": "2026-04-01",
            "until": "2026-06-30",
            "compare_since": "2026-01-01",
            "compare_until": "2026-03-31",
        },
    )

    assert response.status_code == 200
    assert "not distinguishable from noise" in response.content.decode()


@pytest.mark.django_db
def test_report_exports_the_incidents_as_csv(browser_client, frozen):
    _incidents(3, start=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)

    response = browser_client.get(
        "/reports/incidents/", {"since": "2026-05-01", "until": "2026-05-31", "format": "csv"}
    )

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("id,title,severity")
    assert len(lines) == 4
    assert lines[1].endswith(",300.0,3600.0,3900.0")


@pytest.mark.django_db
def test_bad_report_dates_are_named(browser_client):
    response = browser_client.get("/reports/incidents/", {"since": "2026-05-10", "until": "2026-05-01"})

    assert response.status_code == 400
    assert "until must not be before since" in response.content.decode()


@pytest.mark.django_db
def test_report_shows_remediation_on_time_and_days_to_review(browser_client, person, frozen):
    from incidents.models import RemediationItem, ReviewMeeting

    started = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    incident = Incident.objects.create(
        title="Reviewed",
        status=Status.REVIEWED,
        impact_started_at=started,
        detected_at=started + dt.timedelta(minutes=5),
        resolved_at=started + dt.timedelta(hours=1),
    )
    ReviewMeeting.objects.create(
        incident=incident, facilitator=person, starts_at=started + dt.timedelta(days=3, hours=1)
    )
    for due, completed in (
        (dt.date(2026, 5, 20), dt.datetime(2026, 5, 10, tzinfo=dt.UTC)),
        (dt.date(2026, 5, 5), dt.datetime(2026, 5, 10, tzinfo=dt.UTC)),
    ):
        RemediationItem.objects.create(
            incident=incident,
            title="Fix",
            kind="dev",
            category="prevent",
            owner=person,
            due_date=due,
            status="done",
            completed_at=completed,
        )

    html = browser_client.get(
        "/reports/incidents/", {"since": "2026-05-01", "until": "2026-05-31"}
    ).content.decode()

    assert "<strong>50%</strong> (1 of 2 done)" in html
    assert "median <strong>3.0</strong>" in html


@pytest.mark.django_db
def test_follow_through_counts_the_items_of_the_periods_incidents_whatever_their_numbers(person):
    """Incidents numbered out of time order (one written up late) bound the items by their span only."""
    from incidents.models import RemediationItem
    from incidents.selectors.metrics import IncidentFilters
    from incidents.selectors.report import follow_through

    def incident(day: int) -> Incident:
        started = dt.datetime(2026, 5, day, 9, tzinfo=dt.UTC)
        return Incident.objects.create(
            title=f"May {day}", status=Status.RESOLVED, impact_started_at=started,
            detected_at=started, resolved_at=started + dt.timedelta(hours=1),
        )  # fmt: skip

    first, outside, late = incident(2), incident(20), incident(1)  # ids rise; `late` started first
    for owner_of, due in ((first, 3), (outside, 3), (outside, 30), (late, 1), (late, 31)):
        RemediationItem.objects.create(
            incident=owner_of, title="Fix", kind="dev", category="prevent", owner=person,
            due_date=dt.date(2026, 5, due), status="done",
            completed_at=dt.datetime(2026, 5, 10, tzinfo=dt.UTC),
        )  # fmt: skip

    figures = follow_through(
        IncidentFilters(
            since=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), until=dt.datetime(2026, 5, 10, tzinfo=dt.UTC)
        )
    )

    assert (figures["remediation_done"], figures["remediation_on_time"]) == (3, 1)
    assert outside.pk > first.pk and late.pk > outside.pk


@pytest.mark.django_db
def test_titles_a_spreadsheet_would_run_are_exported_as_text(browser_client, frozen):
    _incidents(1, start=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)
    Incident.objects.update(title="@SUM(1+1)*cmd|' /C calc'!A0")

    response = browser_client.get(
        "/reports/incidents/", {"since": "2026-05-01", "until": "2026-05-31", "format": "csv"}
    )

    assert ",'@SUM(1+1)" in response.content.decode().splitlines()[1]


@pytest.mark.django_db
@pytest.mark.parametrize(("resolve_minutes", "unit"), [(60, "minutes"), (600, "hours")])
def test_the_duration_charts_count_in_minutes_or_hours_and_say_which(
    browser_client, frozen, resolve_minutes, unit
):
    _incidents(
        3, start=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=resolve_minutes
    )

    html = browser_client.get("/reports/incidents/").content.decode()

    assert f"median duration ({unit})" in html
    assert f"duration ({unit}, log scale)" in html
    assert ">seconds<" not in html, "no axis or table column counts in seconds"


def _submitted(html: str, form_label: str) -> dict[str, list[str]]:
    """What a browser sends when the form labelled `form_label` is submitted as shown."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside = False
            self.select: str | None = None
            self.data: dict[str, list[str]] = {}

        def handle_starttag(self, tag, attrs):
            attributes = dict(attrs)
            if tag == "form":
                self.inside = attributes.get("aria-label") == form_label
            if not self.inside:
                return
            name = attributes.get("name")
            if tag == "input" and name:
                if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                    return
                self.data.setdefault(name, []).append(attributes.get("value") or "")
            elif tag == "select":
                self.select = name
            elif tag == "option" and self.select and "selected" in attributes:
                self.data.setdefault(self.select, []).append(attributes.get("value") or "")

        def handle_endtag(self, tag):
            if tag == "form":
                self.inside = False
            elif tag == "select":
                self.select = None

    parser = Form()
    parser.feed(html)
    return parser.data


@pytest.mark.django_db
def test_the_period_shown_is_in_the_date_fields_and_show_keeps_it(browser_client, frozen):
    _incidents(3, start=dt.datetime(2025, 5, 1, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)
    _incidents(2, start=dt.datetime(2026, 5, 1, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)

    first = browser_client.get("/reports/incidents/").content.decode()
    sent = _submitted(first, "Report filters")

    # The last twelve months up to today (15 June 2026), as input type=date reads them.
    assert sent["since"] == ["2025-06-15"] and sent["until"] == ["2026-06-15"]
    assert "2</strong> incidents started" in first
    again = browser_client.get("/reports/incidents/", sent)
    assert again.status_code == 200
    html = again.content.decode()
    assert "2</strong> incidents started" in html
    assert _submitted(html, "Report filters")["since"] == ["2025-06-15"]


@pytest.mark.parametrize(
    ("widget", "value", "shown"),
    [
        ("DateInput", dt.date(2026, 6, 15), 'value="2026-06-15"'),
        ("DateTimeLocalInput", dt.datetime(2026, 6, 15, 9, 5), 'value="2026-06-15T09:05"'),
    ],
)
def test_date_pickers_carry_their_value_as_browsers_read_it(widget, value, shown, settings):
    from django.utils import translation

    from morgue import forms

    with translation.override("en-gb"):
        html = getattr(forms, widget)().render("when", value)

    assert shown in html


@pytest.mark.django_db
def test_a_large_report_stays_small_samples_its_distribution_and_exports_every_incident(
    browser_client, frozen, django_assert_max_num_queries
):
    count = 5000
    start = NOW - dt.timedelta(days=700)
    Incident.objects.bulk_create(
        Incident(
            title=f"Incident {index}",
            severity=1 + index % 5,
            status=Status.RESOLVED,
            impact_started_at=start + dt.timedelta(hours=3 * index),
            detected_at=start + dt.timedelta(hours=3 * index, minutes=1 + index % 97),
            resolved_at=start + dt.timedelta(hours=3 * index, minutes=60 + index % 997),
        )
        for index in range(count)
    )
    period = {"since": "2024-01-01", "until": "2026-06-15"}

    with django_assert_max_num_queries(14):
        response = browser_client.get("/reports/incidents/", period)

    page = response.content.decode()
    assert response.status_code == 200
    assert len(response.content) < 300_000
    assert "<strong>5000</strong> incidents started in the period" in page
    strip = response.context["report"]["strip"]
    assert len([row for row in strip.rows if row[0] == "detect"]) == 300
    assert response.context["report"]["distribution"].rows[-1][2] == 1.0
    assert "Drawn from a sample of incidents evenly spaced by rank (300 of 5,000 for time to detect" in page
    assert "n=5,000" in page

    exported = browser_client.get("/reports/incidents/", {**period, "format": "csv"})
    assert len(exported.content.decode().splitlines()) == 1 + count


@pytest.mark.django_db
def test_a_small_report_draws_every_incident_and_says_nothing_of_sampling(browser_client, frozen):
    _incidents(12, start=dt.datetime(2026, 3, 25, tzinfo=dt.UTC), detect_minutes=5, resolve_minutes=60)

    response = browser_client.get("/reports/incidents/")

    assert len([row for row in response.context["report"]["strip"].rows if row[0] == "detect"]) == 12
    assert "Drawn from a sample" not in response.content.decode()
