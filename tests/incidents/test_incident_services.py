import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from incidents.drawing import KIND_COLOURS
from incidents.exceptions import StaleVersion, StatusChangeRefused
from incidents.models import BlamelessPhrase, EventKind, Incident, Revision, Status
from incidents.selectors import incident as selectors
from incidents.services import incident as services
from morgue.exceptions import MorgueError
from tests.factories import IncidentFactory, TimelineEventFactory, UserFactory

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


def make(**fields) -> Incident:
    return services.create_incident(
        by=None,
        title="Search is slow",
        impact_started_at=START,
        detected_at=START + dt.timedelta(minutes=4),
        **fields,
    )


def test_durations_are_null_until_their_times_are_known():
    incident = make()
    assert incident.time_to_detect_seconds == 240
    assert incident.time_to_resolve_seconds is None and incident.impact_seconds is None
    incident.mitigated_at = START + dt.timedelta(minutes=30)
    incident.resolved_at = START + dt.timedelta(hours=2)
    assert incident.time_to_resolve_seconds is None, "an open incident is timed only to detection"
    incident.status = Status.RESOLVED
    assert incident.impact_seconds == 30 * 60
    assert incident.time_to_resolve_seconds == 2 * 3600 - 240


def test_out_of_order_times_name_both_fields_and_nothing_is_saved():
    with pytest.raises(ValidationError) as error:
        services.create_incident(
            by=None, title="x", impact_started_at=START, detected_at=START - dt.timedelta(minutes=1)
        )
    assert "detected_at" in error.value.message_dict
    assert "impact_started_at" in error.value.message_dict["detected_at"][0]
    assert not Incident.objects.exists()


def test_every_save_is_a_revision_and_stale_versions_are_refused(person):
    incident = make()
    services.update_incident(incident=incident, by=person, version=1, changes={"tldr": "One"})
    with pytest.raises(StaleVersion) as error:
        services.update_incident(incident=incident, by=person, version=1, changes={"tldr": "Two"})
    assert error.value.current_version == 2
    assert list(Revision.objects.filter(incident=incident).values_list("number", flat=True)) == [2, 1]


def test_saving_nothing_new_makes_no_revision(person):
    incident = make(tldr="Same")
    services.update_incident(incident=incident, by=person, version=1, changes={"tldr": "Same"})
    incident.refresh_from_db()
    assert incident.version == 1 and incident.revisions.count() == 1


def test_restoring_a_revision_brings_back_its_content_as_a_new_revision(person):
    incident = make(tldr="Original", tags=["db"])
    services.update_incident(
        incident=incident, by=person, version=1, changes={"tldr": "Rewritten", "tags": ["dns"]}
    )
    first = incident.revisions.get(number=1)
    restored = services.restore_revision(incident=incident, revision=first, by=person)
    assert restored.version == 3 and restored.tldr == "Original"
    assert [tag.name for tag in restored.tags.all()] == ["db"]
    assert restored.revisions.first().note == "Restored revision 1"


def test_the_diff_between_two_revisions_shows_changed_lines(person):
    incident = make(what_happened="Line one\nLine two")
    services.update_incident(
        incident=incident, by=person, version=1, changes={"what_happened": "Line one\nLine 2"}
    )
    newer, older = incident.revisions.all()[:2]
    diff = selectors.revision_diff(older=older, newer=newer)
    assert [change.field for change in diff] == ["what_happened"]
    assert ("removed", "Line two") in diff[0].lines and ("added", "Line 2") in diff[0].lines


def test_resolving_without_a_time_stamps_it_now(person):
    incident = make()
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        services.change_status(incident=incident, status=Status.RESOLVED, by=person)
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert incident.resolved_at == START + dt.timedelta(hours=1)


@pytest.mark.parametrize("status", [Status.REVIEWED, Status.CLOSED])
def test_moving_straight_past_resolved_also_stamps_the_resolution_time(person, status):
    incident = make()
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        services.change_status(incident=incident, status=status, by=person)
    incident.refresh_from_db()
    assert incident.resolved_at == START + dt.timedelta(hours=1)


def test_an_incident_records_who_opened_it(person):
    incident = services.create_incident(
        by=person, title="Cache stampede", impact_started_at=START, detected_at=START
    )
    assert incident.created_by == person
    assert incident.revisions.get().author == person


def test_review_scheduled_needs_a_meeting(person):
    incident = make()
    with pytest.raises(StatusChangeRefused):
        services.change_status(incident=incident, status=Status.REVIEW_SCHEDULED, by=person)


def test_presence_shows_others_for_two_minutes(person):
    incident = make()
    other = UserFactory(username="olu", first_name="Olu", last_name="Ade")
    with time_machine.travel(START, tick=False):
        services.mark_editing(incident=incident, user=other)
        services.mark_editing(incident=incident, user=person)
        assert selectors.others_editing(incident=incident, user=person) == ["Olu Ade"]
    with time_machine.travel(START + dt.timedelta(minutes=2, seconds=1), tick=False):
        assert selectors.others_editing(incident=incident, user=person) == []


def test_saving_the_editor_ends_the_savers_presence(person):
    incident = make()
    other = UserFactory(username="olu")
    services.mark_editing(incident=incident, user=person)
    assert selectors.others_editing(incident=incident, user=other) != []

    services.update_incident(
        incident=incident, by=person, version=incident.version, changes={"tldr": "Done."}
    )

    assert selectors.others_editing(incident=incident, user=other) == []


def test_a_timeline_event_of_an_unknown_kind_is_refused_with_the_kinds_named(person):
    incident = make()

    with pytest.raises(MorgueError, match="gossip is not an event kind: use one of"):
        services.add_timeline_event(incident=incident, by=person, occurred_at=START, kind="gossip", text="?")

    assert not incident.events.exists()


def test_team_phrases_extend_replace_and_switch_off_the_built_in_list():
    BlamelessPhrase.objects.create(
        text="rookie mistake", reason="Judges a person.", suggestion="What made it easy?"
    )
    BlamelessPhrase.objects.create(text="obviously", reason="Ours.", active=False)
    BlamelessPhrase.objects.create(text="careless", reason="Team wording.")
    text = "A rookie mistake, obviously careless."
    findings = {finding.phrase: finding for finding in selectors.check_text(text=text)}
    assert set(findings) == {"rookie mistake", "careless"}
    assert findings["careless"].reason == "Team wording."


def test_people_names_include_first_display_and_user_names():
    UserFactory(username="kgreen", first_name="Kim")
    findings = selectors.check_text(text="Kim deleted the table. Then kgreen pushed the fix.")
    assert [finding.matched for finding in findings] == ["Kim deleted", "kgreen pushed"]


def test_names_of_two_letters_are_not_taken_for_people():
    # A person whose username is "it" must not make "It broke" blame someone.
    UserFactory(username="it", first_name="Ed")
    assert selectors.check_text(text="It broke after the upgrade. Ed deleted nothing.") == []


def test_today_in_history_finds_earlier_years_on_the_local_calendar():
    def at(year, month, day, hour):
        started = dt.datetime(year, month, day, hour, tzinfo=dt.UTC)
        return IncidentFactory(impact_started_at=started, detected_at=started)

    last_year = at(2025, 3, 1, 12)
    at(2026, 3, 1, 9)  # this year: not history
    at(2025, 3, 2, 12)
    deleted = at(2024, 3, 1, 12)
    services.delete_incident(incident=deleted, by=UserFactory(is_staff=True))
    assert selectors.today_in_history(today=dt.date(2026, 3, 1)) == [last_year]


def _started(at: dt.datetime) -> Incident:
    return IncidentFactory(impact_started_at=at, detected_at=at)


def test_today_in_history_is_the_viewers_local_day_not_the_utc_one():
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    # 1 March 2025, 20:00 UTC is already 2 March in Tokyo; 28 February 23:30 in New York is 1 March UTC.
    late_utc = _started(dt.datetime(2025, 3, 1, 20, 0, tzinfo=dt.UTC))
    late_new_york = _started(dt.datetime(2025, 2, 28, 23, 30, tzinfo=new_york))
    assert selectors.today_in_history(today=dt.date(2026, 3, 2), zone=tokyo) == [late_utc]
    assert selectors.today_in_history(today=dt.date(2026, 2, 28), zone=new_york) == [late_new_york]
    assert selectors.today_in_history(today=dt.date(2026, 3, 1), zone=dt.UTC) == [late_utc, late_new_york]


def test_today_in_history_on_february_29_finds_only_leap_years_and_crosses_the_new_year():
    leap = _started(dt.datetime(2024, 2, 29, 10, tzinfo=dt.UTC))
    _started(dt.datetime(2023, 3, 1, 10, tzinfo=dt.UTC))
    _started(dt.datetime(2023, 2, 28, 10, tzinfo=dt.UTC))
    older_leap = _started(dt.datetime(2020, 2, 29, 23, 0, tzinfo=dt.UTC))
    assert selectors.today_in_history(today=dt.date(2028, 2, 29), zone=dt.UTC) == [leap, older_leap]
    assert selectors.today_in_history(today=dt.date(2027, 2, 28), zone=dt.UTC) == [_incident_on(2023, 2, 28)]
    # The oldest incident's local day is in the year before its UTC year.
    new_year = _started(dt.datetime(2020, 1, 1, 2, 0, tzinfo=dt.UTC))
    los_angeles = ZoneInfo("America/Los_Angeles")
    assert selectors.today_in_history(today=dt.date(2026, 12, 31), zone=los_angeles) == [new_year]


def _incident_on(year: int, month: int, day: int) -> Incident:
    return Incident.objects.get(impact_started_at__date=dt.date(year, month, day))


def test_today_in_history_reads_a_constant_number_of_queries(django_assert_num_queries):
    for year in range(2000, 2026):
        _started(dt.datetime(year, 5, 17, 12, tzinfo=dt.UTC))
        _started(dt.datetime(year, 5, 18, 12, tzinfo=dt.UTC))
    # One statement on PostgreSQL; elsewhere the oldest incident is read first.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        found = selectors.today_in_history(today=dt.date(2026, 5, 17), zone=dt.UTC, limit=5)
    assert [incident.impact_started_at.year for incident in found] == [2025, 2024, 2023, 2022, 2021]
    assert {incident.impact_started_at.day for incident in found} == {17}


def test_the_timeline_picture_draws_every_kind_and_labels_durations():
    incident = make(resolved_at=START + dt.timedelta(hours=2, minutes=4))
    events = [
        TimelineEventFactory(incident=incident, kind=kind, text=f"<{kind}>") for kind in EventKind.values
    ]
    svg = selectors.timeline_picture(incident=incident, events=events, zone=ZoneInfo("Europe/London"))
    assert set(EventKind.values) <= set(KIND_COLOURS)
    for kind in EventKind.values:
        assert f"event-{kind}" in svg
    assert "&lt;deploy&gt;" in svg and "<deploy>" not in svg
    assert "4m" in svg and "2h 00m" in svg  # detect, then detect → resolve


def test_the_demo_has_forty_incidents_with_some_blameful_phrasing(demo):
    assert Incident.objects.count() == 40
    assert Incident.objects.filter(events__isnull=False).distinct().count() == 40
    assert {incident.status for incident in Incident.objects.all()} >= {"resolved", "closed", "reviewed"}
    assert Incident.objects.filter(facilitator__isnull=False).exists()
    assert any(selectors.postmortem_findings(incident=incident) for incident in Incident.objects.all())


def test_severity_labels_come_from_the_setting(settings):
    settings.MORGUE_SEVERITY_LABELS = {1: "1 – everything is on fire"}
    incident = IncidentFactory.build(severity=1)
    assert incident.severity_label == "1 – everything is on fire"
    assert IncidentFactory.build(severity=2).severity_label.startswith("2 – major")


def test_an_incident_with_unfinished_remediation_items_cannot_close(person, api):
    from incidents.exceptions import IncidentHasOpenItems
    from tests.factories import RemediationItemFactory

    incident = make(resolved_at=START + dt.timedelta(hours=1))
    item = RemediationItemFactory(incident=incident)
    with pytest.raises(IncidentHasOpenItems):
        services.change_status(incident=incident, status=Status.CLOSED, by=person)
    response = api.patch(
        f"/api/v1/incidents/{incident.pk}/", {"version": 1, "status": "closed"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["blocking_items"] == [item.pk]
    from incidents.services.remediation import change_status as change_item_status

    change_item_status(item=item, status="done")
    assert services.change_status(incident=incident, status=Status.CLOSED, by=person).status == Status.CLOSED
