import datetime as dt

import pytest
import time_machine
from django.test import Client

from incidents.models import Incident, ReviewMeeting, Status
from incidents.services import incident as services
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    TeamFactory,
    TimelineEventFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


def form_data(**overrides) -> dict:
    data = {
        "title": "Login fails",
        "severity": "2",
        "status": "open",
        "impact_started_at": "2026-03-01T13:00",
        "detected_at": "2026-03-01T13:10",
        "tags": "auth, sso",
    }
    data.update(overrides)
    return data


def test_creating_from_the_form_reads_times_on_the_viewers_clock(browser_client, person):
    person.profile.time_zone = "America/New_York"
    person.profile.save()
    response = browser_client.post("/incidents/new/", form_data())
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert incident.impact_started_at == dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.UTC)
    assert sorted(tag.name for tag in incident.tags.all()) == ["auth", "sso"]
    page = browser_client.get(incident.get_absolute_url()).content.decode()
    assert "America/New_York" in page and "13:00" in page


def test_the_form_refuses_out_of_order_times_and_bad_tags_with_sentences(browser_client):
    response = browser_client.post(
        "/incidents/new/", form_data(detected_at="2026-03-01T12:00", tags="Bad Tag")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "detected_at (detected) cannot be before impact_started_at (impact started)" in page
    assert "Tags are lowercase" in page
    assert not Incident.objects.exists()


def test_multi_day_incidents_show_dates(browser_client):
    incident = IncidentFactory(
        impact_started_at=START,
        detected_at=START + dt.timedelta(hours=1),
        resolved_at=START + dt.timedelta(days=1),
    )
    page = browser_client.get(incident.get_absolute_url()).content.decode()
    assert "Mon 2 Mar 2026 13:00" in page


def test_the_incident_page_shows_timeline_findings_and_partials(browser_client):
    UserFactory(username="dana", first_name="Dana")
    incident = IncidentFactory(
        what_happened="Dana forgot to renew the certificate. <img src=x onerror=alert(1)>"
    )
    TimelineEventFactory(incident=incident, kind="deploy", text="Deployed 4f2a")
    page = browser_client.get(incident.get_absolute_url()).content.decode()
    assert "<svg" in page and "event-deploy" in page
    assert "forgot to" in page and "checklist or automation" in page and "Dana forgot" in page
    assert "onerror" not in page


def test_editing_with_a_stale_version_keeps_the_persons_text_and_shows_the_other_edit(browser_client, person):
    incident = IncidentFactory(tldr="Original")
    other = ProfileFactory(user=UserFactory(username="olu"), display_name="Olu Ade").user
    member_of(TeamFactory(), "responder", user=other)
    services.update_incident(incident=incident, by=other, version=1, changes={"tldr": "Their tl;dr"})
    data = form_data(
        title=incident.title,
        impact_started_at="2026-03-01T13:00",
        detected_at="2026-03-01T13:10",
        version="1",
        tldr="My carefully written tl;dr",
    )
    response = browser_client.post(f"/incidents/{incident.pk}/edit/", data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved first" in page and "Olu Ade" in page
    assert "Their tl;dr" in page and "My carefully written tl;dr" in page
    assert 'name="version" value="2"' in page
    incident.refresh_from_db()
    assert incident.tldr == "Their tl;dr"
    # Saving again, now based on version 2, is the person's deliberate merge.
    data["version"] = "2"
    assert browser_client.post(f"/incidents/{incident.pk}/edit/", data).status_code == 302
    incident.refresh_from_db()
    assert incident.tldr == "My carefully written tl;dr" and incident.version == 3


def test_the_editor_says_who_else_is_editing(browser_client, client):
    incident = IncidentFactory()
    other = ProfileFactory(user=UserFactory(username="olu"), display_name="Olu Ade").user
    services.mark_editing(incident=incident, user=other)
    page = browser_client.get(f"/incidents/{incident.pk}/edit/").content.decode()
    assert "Olu Ade is editing" in page
    heartbeat = browser_client.post(f"/incidents/{incident.pk}/editing/").json()
    assert heartbeat == {"editing": ["Olu Ade"], "version": 1}


def test_history_compares_two_revisions_and_restores_one(browser_client, person):
    incident = IncidentFactory()
    services.update_incident(incident=incident, by=person, version=1, changes={"tldr": "first words"})
    services.update_incident(incident=incident, by=person, version=None, changes={"tldr": "second words"})
    # The factory made no revision 1: the two service saves are versions 2 and 3.
    page = browser_client.get(f"/incidents/{incident.pk}/history/?older=2&newer=3").content.decode()
    assert "first words" in page and "second words" in page
    response = browser_client.post(f"/incidents/{incident.pk}/history/2/restore/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.tldr == "first words" and incident.version == 4


def test_delete_and_restore_are_staff_only(browser_client, staff):
    incident = IncidentFactory()
    client = Client()
    assert browser_client.post(f"/incidents/{incident.pk}/delete/").status_code == 403
    client.force_login(staff)
    assert client.post(f"/incidents/{incident.pk}/delete/").status_code == 302
    assert browser_client.get(incident.get_absolute_url()).status_code == 404
    assert client.get(incident.get_absolute_url()).status_code == 200
    assert client.get("/incidents/?deleted=on").context["page"].object_list[0] == incident
    assert browser_client.post(f"/incidents/{incident.pk}/restore/").status_code == 404
    assert client.post(f"/incidents/{incident.pk}/restore/").status_code == 302
    assert browser_client.get(incident.get_absolute_url()).status_code == 200


def test_only_staff_can_list_the_deleted_incidents(browser_client, staff):
    kept, deleted = IncidentFactory(title="Still here"), IncidentFactory(title="Gone")
    services.delete_incident(incident=deleted, by=staff)
    client = Client()
    client.force_login(staff)

    assert [incident.title for incident in client.get("/incidents/?deleted=on").context["page"]] == ["Gone"]
    # Anyone else asking for the deleted ones gets the ordinary list.
    listed = browser_client.get("/incidents/?deleted=on").context["page"]
    assert [incident.title for incident in listed] == [kept.title]


def test_a_deleted_incident_cannot_be_edited_even_by_staff(staff):
    incident = IncidentFactory()
    services.delete_incident(incident=incident, by=staff)
    client = Client()
    client.force_login(staff)

    assert client.get(f"/incidents/{incident.pk}/edit/").status_code == 404
    assert client.post(f"/incidents/{incident.pk}/edit/", form_data(title="Revived")).status_code == 404
    incident.refresh_from_db()
    assert incident.title != "Revived"


def test_the_time_since_the_previous_milestone_skips_milestones_not_yet_known(browser_client):
    incident = IncidentFactory(
        impact_started_at=START,
        detected_at=START + dt.timedelta(minutes=4),
        resolved_at=START + dt.timedelta(hours=2, minutes=4),
    )

    page = browser_client.get(incident.get_absolute_url()).content.decode()

    resolved_row = page[page.index('<th scope="row">Resolved</th>') :].split("</tr>")[0]
    assert '<td class="num">2h 00m</td>' in resolved_row  # from detection: nothing was mitigated


def test_the_period_filter_includes_its_first_day_and_stops_before_the_last(browser_client):
    for day in (1, 2, 3):
        IncidentFactory(
            title=f"March {day}",
            impact_started_at=dt.datetime(2026, 3, day, tzinfo=dt.UTC),
            detected_at=dt.datetime(2026, 3, day, 0, 5, tzinfo=dt.UTC),
        )

    page = browser_client.get("/incidents/", {"started_after": "2026-03-02", "started_before": "2026-03-03"})

    assert [incident.title for incident in page.context["page"]] == ["March 2"]


def test_the_list_filters_and_searches(browser_client):
    team = TeamFactory(slug="ops")
    services.create_incident(
        by=None, title="Disk full on db-3", impact_started_at=START, detected_at=START, team=team
    )
    services.create_incident(
        by=None, title="Slow search", impact_started_at=START, detected_at=START, severity=1
    )
    page = browser_client.get("/incidents/", {"search": "disk"})
    assert [incident.title for incident in page.context["page"]] == ["Disk full on db-3"]
    page = browser_client.get("/incidents/", {"severity": "1"})
    assert [incident.title for incident in page.context["page"]] == ["Slow search"]
    page = browser_client.get(
        "/incidents/", {"team": "ops", "started_after": "2026-03-01", "started_before": "2026-03-02"}
    )
    assert [incident.title for incident in page.context["page"]] == ["Disk full on db-3"]
    assert browser_client.get("/incidents/", {"severity": "9"}).status_code == 200


def test_the_list_page_runs_no_more_queries_for_more_rows(
    browser_client, django_assert_max_num_queries, queries_for
):
    team = TeamFactory()
    IncidentFactory(team=team, facilitator=UserFactory(), tags=["a"])
    few = queries_for(browser_client, "/incidents/")
    for number in range(15):
        IncidentFactory(team=team, facilitator=UserFactory(), tags=[f"tag-{number}", "b"])
    with django_assert_max_num_queries(few):
        assert browser_client.get("/incidents/").content.decode().count("tag-") == 15
    with django_assert_max_num_queries(few):
        browser_client.get("/incidents/?search=incident&status=open")


@time_machine.travel(dt.datetime(2026, 3, 6, 15, 0, tzinfo=dt.UTC), tick=False)
def test_scheduling_from_the_review_page_suggests_a_slot_and_sends_the_invitation(
    browser_client, person, django_capture_on_commit_callbacks
):
    incident = IncidentFactory(
        status=Status.RESOLVED, resolved_at=dt.datetime(2026, 3, 6, 14, 30, tzinfo=dt.UTC)
    )
    page = browser_client.get(f"/incidents/{incident.pk}/review/")
    assert page.context["suggestion"] == dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = browser_client.post(
            f"/incidents/{incident.pk}/review/",
            {
                "facilitator": "pat",
                "starts_at": "2026-03-09T10:00",
                "duration_minutes": "60",
                "attendees": ["pat"],
                "send_invitation": "on",
            },
        )
    assert response.status_code == 302, response.context["form"].errors
    assert len(callbacks) == 1
    meeting = ReviewMeeting.objects.get()
    assert meeting.sequence == 0 and meeting.invitation_pending
    incident.refresh_from_db()
    assert incident.status == Status.REVIEW_SCHEDULED
    assert browser_client.get("/incidents/review-queue/").status_code == 200
