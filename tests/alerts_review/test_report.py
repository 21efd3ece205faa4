import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from alerts_review.selectors import monthly_report
from tests.factories import AlertFactory, TeamFactory, UserFactory, category, member_of

pytestmark = pytest.mark.django_db

UTC = dt.UTC
OCTOBER = dt.date(2026, 10, 1)


def at(day, hour=12, month=10):
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ops():
    return TeamFactory(slug="ops", name="Ops")


@pytest.fixture
def october(ops):
    """Disk: mostly threshold and at night; Load: always the wrong time; Ping: unclassified."""
    nina = UserFactory(username="nina")
    threshold, issue, timeperiod = category("threshold"), category("issue"), category("timeperiod")
    for day, chosen, night in [
        (1, threshold, True),
        (2, threshold, True),
        (3, threshold, True),
        (4, issue, False),
    ]:
        AlertFactory(
            team=ops,
            check_name="Disk",
            fired_at=at(day, 3 if night else 14),
            category=chosen,
            out_of_hours=night,
            paged=nina,
            woke_me_up=day == 1,
        )
    for day in (5, 6, 7):
        AlertFactory(team=ops, check_name="Load", fired_at=at(day), category=timeperiod)
    for day in (8, 9):
        AlertFactory(team=ops, check_name="Ping", fired_at=at(day))
    AlertFactory(team=ops, check_name="Disk", fired_at=at(10, month=9), category=issue)
    AlertFactory(team=ops, check_name="Disk", fired_at=at(11, month=9))
    AlertFactory(team=TeamFactory(slug="dev"), check_name="Other", fired_at=at(3))
    return ops


def test_the_top_level_figures(october):
    report = monthly_report(month=OCTOBER, team=october)
    assert {
        key: report[key] for key in ["total", "classified", "coverage", "actionable", "not_actionable"]
    } == {
        "total": 9,
        "classified": 7,
        "coverage": 0.778,
        "actionable": 1,
        "not_actionable": 6,
    }
    assert (report["signal_to_noise"], report["out_of_hours"], report["woke_people"]) == (0.143, 3, 1)


def test_checks_come_noisiest_first_with_their_top_category(october):
    by_check = monthly_report(month=OCTOBER, team=october)["by_check"]
    assert by_check[0] == {
        "check": "Disk",
        "total": 4,
        "actionable": 1,
        "not_actionable": 3,
        "signal_to_noise": 0.25,
        "out_of_hours": 3,
        "top_category": "threshold",
    }
    assert [row["check"] for row in by_check] == ["Disk", "Load", "Ping"]
    assert by_check[2]["signal_to_noise"] is None and by_check[2]["top_category"] is None


def test_categories_people_days_and_hours_are_counted(october):
    report = monthly_report(month=OCTOBER, team=october)
    assert {row["category"]: row["total"] for row in report["by_category"]}["threshold"] == 3
    assert report["by_person"] == [
        {"person": "nina", "name": "nina", "total": 4, "out_of_hours": 3, "woke": 1}
    ]
    assert len(report["by_day"]) == 31
    assert report["by_day"][0] == {"day": "2026-10-01", "total": 1, "out_of_hours": 1}
    assert report["by_hour"][3] == {"hour": 3, "total": 3, "out_of_hours": 3}
    assert sum(row["total"] for row in report["by_hour"]) == 9


def test_the_previous_month_and_the_change(october):
    previous = monthly_report(month=OCTOBER, team=october)["previous_month"]
    assert previous["month"] == "2026-09"
    assert (previous["total"], previous["classified"], previous["signal_to_noise"]) == (2, 1, 1.0)
    assert previous["change"]["total"] == 7
    assert previous["change"]["signal_to_noise"] == -0.857


def test_recommendations_name_the_checks_and_the_reasons(october):
    recommendations = monthly_report(month=OCTOBER, team=october)["recommendations"]
    assert [(item["check"], item["reason"]) for item in recommendations] == [
        ("Disk", "threshold"),
        ("Disk", "out_of_hours"),
        ("Load", "timeperiod"),
        ("Load", "never_actionable"),
    ]
    assert recommendations[0]["detail"].startswith(
        "3 of 4 classified alerts said the threshold needs adjusting"
    )


def test_a_check_with_half_its_alerts_classified_and_none_actionable_is_recommended_for_deletion(ops):
    for day, chosen in [(1, "downtime-expired"), (2, "downtime-expired"), (3, None), (4, None)]:
        AlertFactory(team=ops, check_name="Quiet", fired_at=at(day), category=chosen and category(chosen))

    recommendations = monthly_report(month=OCTOBER, team=ops)["recommendations"]

    assert [(item["check"], item["reason"]) for item in recommendations] == [("Quiet", "never_actionable")]


def test_a_night_check_with_half_its_alerts_actionable_is_still_recommended_for_working_hours(ops):
    for day, chosen in [(1, "issue"), (2, "issue"), (3, "downtime-expired"), (4, "downtime-expired")]:
        AlertFactory(
            team=ops, check_name="Night", fired_at=at(day, 3), category=category(chosen), out_of_hours=True
        )

    recommendations = monthly_report(month=OCTOBER, team=ops)["recommendations"]

    assert [(item["check"], item["reason"]) for item in recommendations] == [("Night", "out_of_hours")]


def test_a_check_with_exactly_half_its_alerts_at_the_wrong_time_is_not_yet_recommended_a_new_period(ops):
    for day, chosen in [(1, "timeperiod"), (2, "timeperiod"), (3, "issue"), (4, "issue")]:
        AlertFactory(team=ops, check_name="Batch", fired_at=at(day), category=category(chosen))

    assert monthly_report(month=OCTOBER, team=ops)["recommendations"] == []


def test_an_empty_month_has_no_ratios():
    report = monthly_report(month=OCTOBER)
    assert (report["total"], report["coverage"], report["signal_to_noise"]) == (0, None, None)
    assert report["previous_month"]["change"]["coverage"] is None


def test_the_month_is_counted_in_the_chosen_time_zone(ops):
    # 02:00 UTC on 1 November is still 31 October, 22:00, in New York.
    AlertFactory(team=ops, fired_at=dt.datetime(2026, 11, 1, 2, tzinfo=UTC))
    assert monthly_report(month=OCTOBER, team=ops)["total"] == 0
    report = monthly_report(month=OCTOBER, team=ops, zone=ZoneInfo("America/New_York"))
    assert report["total"] == 1
    assert report["by_day"][30]["total"] == 1 and report["by_hour"][22]["total"] == 1


def test_the_api_returns_exactly_the_documented_keys(api, october):
    response = api.get("/api/v1/reports/alerts/?month=2026-10&team=ops")
    assert response.status_code == 200
    assert set(response.json()) == {
        "total",
        "classified",
        "coverage",
        "actionable",
        "not_actionable",
        "signal_to_noise",
        "out_of_hours",
        "woke_people",
        "by_check",
        "by_category",
        "by_person",
        "by_day",
        "by_hour",
        "previous_month",
        "recommendations",
        "truncated_alerts",
        "during_maintenance",
        "other_checks",
        "other_people",
        "other_recommendations",
    }
    assert response.json()["total"] == 9


@pytest.mark.parametrize("query", ["month=2026-13", "month=October", "", "month=2026-10&tz=Mars/Olympus"])
def test_a_bad_month_or_zone_is_a_400_naming_the_field(api, query):
    response = api.get(f"/api/v1/reports/alerts/?{query}")
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"month", "tz"}


def test_an_unknown_team_is_404(api):
    assert api.get("/api/v1/reports/alerts/?month=2026-10&team=nobody").status_code == 404


def test_the_report_page_shows_the_figures_and_recommendations(
    browser_client, october, django_assert_max_num_queries
):
    # 17: the count of alerts during maintenance is one more query.
    with django_assert_max_num_queries(17):
        response = browser_client.get("/alerts/reports/2026-10/?team=ops")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alerts report: October 2026 · Ops" in page
    assert "3 of 4 classified alerts said the threshold needs adjusting" in page
    assert "Ops to fix" in page


def test_the_report_exports_csv(browser_client, october):
    response = browser_client.get("/alerts/reports/2026-10/?team=ops&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["check", "total", "actionable"]
    assert rows[0][-1] == "recommendations"
    assert rows[1] == ["Disk", "4", "1", "3", "0.25", "3", "threshold", "threshold out_of_hours"]
    assert rows[3] == ["Ping", "2", "0", "0", "", "0", "", ""]


def test_the_reports_link_goes_to_last_month(browser_client):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 11, 22, 9, tzinfo=UTC)):
        response = browser_client.get("/alerts/reports/")
    assert response.url == "/alerts/reports/2026-10/"


def test_a_reviewer_records_notes_and_acts_on_a_recommendation(browser_client, october, person):
    member_of(october, "responder", user=person)  # reviewing a team's month is its responders'
    browser_client.post("/alerts/reports/2026-10/review/?team=ops", {"notes": "Disk is the worst."})
    response = browser_client.post(
        "/alerts/reports/2026-10/act/?team=ops",
        {"check": "Disk", "reason": "threshold", "summary": "Disk: raise the threshold", "track": "ops"},
    )
    assert response.status_code == 302
    from alerts_review.models import AlertReview

    review = AlertReview.objects.get(team=october, month=OCTOBER)
    assert review.notes == "Disk is the worst."
    action = review.actions.get()
    assert (action.check_name, action.reason, action.track, action.created_by) == (
        "Disk",
        "threshold",
        "ops",
        person,
    )
    page = browser_client.get("/alerts/reports/2026-10/?team=ops").content.decode()
    assert "on the review" in page and "Disk: raise the threshold" in page


def test_the_quarter_hour_follows_fired_at_on_save_and_bulk_create(ops):
    from alerts_review.models import Alert

    alert = AlertFactory(team=ops, fired_at=dt.datetime(2026, 10, 3, 2, 14, 59, tzinfo=UTC))
    assert alert.fired_quarter * 900 == dt.datetime(2026, 10, 3, 2, tzinfo=UTC).timestamp()
    alert.fired_at = dt.datetime(2026, 10, 3, 2, 15, tzinfo=UTC)
    alert.save()
    assert Alert.objects.get(pk=alert.pk).fired_quarter == alert.fired_quarter == 1790992800 // 900 + 1
    (made,) = Alert.objects.bulk_create(
        [Alert(source="x", identity="y", check_name="z", fired_at=alert.fired_at)]
    )
    assert Alert.objects.get(pk=made.pk).fired_quarter == alert.fired_quarter


def test_a_check_name_a_spreadsheet_would_run_is_exported_as_text(browser_client, october):
    AlertFactory(team=october, check_name='=HYPERLINK("http://evil")', fired_at=at(12))
    response = browser_client.get("/alerts/reports/2026-10/?team=ops&format=csv")
    checks = [row[0] for row in csv.reader(io.StringIO(response.content.decode()))]
    assert '\'=HYPERLINK("http://evil")' in checks
    assert not any(check.startswith("=") for check in checks)


def test_the_comparison_with_the_previous_month_reads_in_labels_and_percentages(browser_client, october):
    import re

    page = browser_client.get("/alerts/reports/2026-10/?team=ops").content.decode()
    section = page[page.index('<section id="previous">') :]
    section = section[: section.index("</section>")]
    rows = [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", section)
    ]

    assert rows[0] == ["Figure", "October 2026", "2026-09", "Change"]
    assert ["Alerts", "9", "2", "+7"] in rows
    assert ["Signal to noise", "14%", "100%", "−86 points"] in rows
    assert "signal_to_noise" not in section and "0.857" not in section


@pytest.fixture
def many_checks(ops):
    """40 checks, check-00 noisiest; 35 people paged."""
    people = UserFactory.create_batch(35)
    for n in range(40):
        for k in range(40 - n):
            AlertFactory(
                team=ops,
                check_name=f"check-{n:02d}",
                fired_at=at(1 + k % 28, k % 24),
                out_of_hours=k % 3 == 0,
                paged=people[(n + k) % 35],
            )
    return ops


def test_a_bounded_report_keeps_the_noisiest_and_sums_the_rest_with_the_same_figures(many_checks):
    full = monthly_report(month=OCTOBER, team=many_checks)
    short = monthly_report(month=OCTOBER, team=many_checks, limit=10)

    assert short["by_check"] == full["by_check"][:10]
    assert short["by_person"] == full["by_person"][:10]
    rest = full["by_check"][10:]
    assert short["other_checks"] == {
        "count": 30,
        "total": sum(row["total"] for row in rest),
        "actionable": 0,
        "not_actionable": 0,
        "out_of_hours": sum(row["out_of_hours"] for row in rest),
    }
    assert short["other_people"]["count"] == 25
    assert short["other_people"]["total"] + sum(row["total"] for row in short["by_person"]) == full["total"]
    left_alone = {
        "by_check",
        "by_person",
        "other_checks",
        "other_people",
        "recommendations",
        "other_recommendations",
    }
    assert {k: v for k, v in short.items() if k not in left_alone} == {
        k: v for k, v in full.items() if k not in left_alone
    }
    assert full["other_checks"] is None and full["other_people"] is None


def test_the_api_report_lists_50_checks_unless_asked_for_more(api, many_checks):
    url = "/api/v1/reports/alerts/?month=2026-10&team=ops"
    assert len(api.get(url).json()["by_check"]) == 40
    short = api.get(url + "&rows=5").json()
    assert [row["check"] for row in short["by_check"]] == [f"check-{n:02d}" for n in range(5)]
    assert short["other_checks"]["count"] == 35
    assert len(api.get(url + "&rows=all").json()["by_check"]) == 40
    for bad in ("0", "ten", "1001"):
        response = api.get(url + f"&rows={bad}")
        assert response.status_code == 400
        assert "rows" in response.json()["errors"]


def test_the_report_page_lists_30_checks_and_the_csv_all_in_constant_queries(
    browser_client, many_checks, django_assert_max_num_queries
):
    with django_assert_max_num_queries(16):
        page = browser_client.get("/alerts/reports/2026-10/?team=ops").content.decode()
    assert "check-29" in page and "check-30" not in page
    assert "10 other checks" in page and "5 other people" in page
    csv_rows = list(
        csv.reader(
            io.StringIO(browser_client.get("/alerts/reports/2026-10/?team=ops&format=csv").content.decode())
        )
    )
    assert len(csv_rows) == 41


@pytest.fixture
def many_recommended(ops):
    """40 checks with every alert classified and none actionable: 40 to delete, rec-00 noisiest."""
    expired = category("downtime-expired")
    for n in range(40):
        for day in range(1, 44 - n):
            AlertFactory(team=ops, check_name=f"rec-{n:02d}", fired_at=at(1 + day % 28), category=expired)
    return ops


def test_a_bounded_report_lists_the_first_recommendations_and_counts_the_rest(many_recommended, api):
    full = monthly_report(month=OCTOBER, team=many_recommended)
    short = monthly_report(month=OCTOBER, team=many_recommended, limit=10)

    assert [item["check"] for item in full["recommendations"]] == [f"rec-{n:02d}" for n in range(40)]
    assert short["recommendations"] == full["recommendations"][:10]
    assert short["other_recommendations"] == {"count": 30}
    assert full["other_recommendations"] is None
    url = "/api/v1/reports/alerts/?month=2026-10&team=ops"
    assert api.get(url + "&rows=5").json()["other_recommendations"] == {"count": 35}
    assert len(api.get(url).json()["recommendations"]) == 40


def test_all_teams_page_lists_30_recommendations_a_teams_every_one_and_the_csv_every_checks(
    browser_client, many_recommended
):
    def listed(query: str) -> str:
        page = browser_client.get(f"/alerts/reports/2026-10/{query}").content.decode()
        return page[page.index('id="recommendations"') : page.index('id="by-check"')]

    everyone = listed("")
    assert "rec-29" in everyone and "rec-30" not in everyone
    assert "10 more recommendations for quieter checks" in everyone
    ops = listed("?team=ops")
    assert "rec-39" in ops and "more recommendation" not in ops
    assert ops.count('data-recommendation="rec-') == 40
    rows = list(
        csv.DictReader(
            io.StringIO(browser_client.get("/alerts/reports/2026-10/?team=ops&format=csv").content.decode())
        )
    )
    assert len(rows) == 40
    assert {row["recommendations"] for row in rows} == {"never_actionable"}


def test_people_tied_at_the_last_place_listed_go_by_username(ops):
    for username, pages in (("bea", 5), ("cal", 3), ("abe", 3), ("dan", 1)):
        person = UserFactory(username=username)
        for day in range(1, pages + 1):
            AlertFactory(team=ops, check_name="Disk", fired_at=at(day), paged=person, out_of_hours=day == 1)

    report = monthly_report(month=OCTOBER, team=ops, limit=2)

    assert [(row["person"], row["total"]) for row in report["by_person"]] == [("bea", 5), ("abe", 3)]
    assert report["other_people"] == {"count": 2, "total": 4, "out_of_hours": 2, "woke": 0}
    assert monthly_report(month=OCTOBER, team=ops, limit=4)["other_people"] is None


def test_someone_whose_account_is_gone_is_left_out_of_the_people_paged(ops):
    from alerts_review.models import AlertMonthPagedCount

    alice = UserFactory(username="alice")
    for day in range(1, 6):
        AlertFactory(team=ops, check_name="Disk", fired_at=at(day), paged=alice)
    # Counts outlive the alerts they count (retention), and the account can go after them.
    AlertMonthPagedCount.objects.create(
        month=2026 * 12 + 9, team_key=ops.pk, paged_key=alice.pk + 1000, total=10, out_of_hours=0, woke=0
    )

    report = monthly_report(month=OCTOBER, team=ops, limit=1)

    assert [row["person"] for row in report["by_person"]] == ["alice"]
    assert report["other_people"] is None
