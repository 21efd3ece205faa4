"""The demo incidents as a first-time visitor meets them: reviews, postmortems and follow-up work."""

from django.utils import timezone

from incidents.demo import SECTIONS, span
from incidents.demo_stories import SCENARIOS, story_for, words
from incidents.models import Incident, RemediationItem, ReviewMeeting, Status
from incidents.selectors import incident as selectors
from incidents.selectors.remediation import blameless_findings

REVIEWED = (Status.REVIEWED, Status.CLOSED)


def test_every_reviewed_incident_had_its_review_meeting_with_attendees_after_it_was_resolved(demo):
    now = timezone.now()
    reviewed = Incident.objects.filter(status__in=REVIEWED)
    assert reviewed.count() >= 20
    for incident in reviewed:
        meeting = ReviewMeeting.objects.get(incident=incident)
        assert incident.resolved_at < meeting.starts_at < now
        assert meeting.facilitator == incident.facilitator
        assert meeting.attendees.filter(pk=incident.facilitator_id).exists()
        assert meeting.attendees.count() >= 3
        assert not meeting.invitation_pending


def test_a_couple_of_reviews_are_upcoming_and_incidents_not_yet_reviewed_have_no_past_meeting(demo):
    now = timezone.now()
    upcoming = ReviewMeeting.objects.filter(starts_at__gt=now)
    assert upcoming.count() >= 2
    assert set(upcoming.values_list("incident__status", flat=True)) == {Status.REVIEW_SCHEDULED}
    assert not ReviewMeeting.objects.filter(incident__status__in=[Status.OPEN, Status.RESOLVED]).exists()
    # The review queue has something in each of its lists.
    queue = selectors.review_queue()
    assert queue["needs_facilitator"] and queue["needs_meeting"] and len(queue["scheduled"]) >= 2


def test_the_incident_report_on_the_demo_shows_how_long_reviews_took(demo, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="demo"))

    response = client.get("/reports/incidents/")

    assert response.status_code == 200
    review_days = response.context["report"]["follow_through"]["review_days"]
    assert review_days["n"] >= 20
    assert 1 <= review_days["median"] <= 10
    assert "no reviewed postmortem yet" not in response.content.decode()


def test_exactly_one_blameless_finding_in_the_whole_demo(demo):
    findings = [
        (incident.title, finding)
        for incident in Incident.objects.all()
        for finding in selectors.postmortem_findings(incident=incident)
    ]
    assert len(findings) == 1, findings
    _, finding = findings[0]
    assert finding["section"] == "what_happened" and finding["phrase"] == "should have"
    # Nor does any remediation item read as blame.
    phrases, names = selectors.blameless_phrases(), selectors.people_names()
    assert not [
        item.title
        for item in RemediationItem.objects.all()
        if blameless_findings(item, phrases=phrases, names=names)
    ]


def test_each_postmortem_is_written_out_in_paragraphs_and_agrees_with_its_milestones(demo):
    written = Incident.objects.exclude(status=Status.OPEN)
    assert written.count() >= 35
    for incident in written:
        texts = [getattr(incident, name) for name in SECTIONS]
        assert all(text.strip() for text in texts), incident.title
        assert sum("\n\n" in text for text in texts) >= 3, incident.title
        assert sum(len(text.split()) for text in texts) >= 250, incident.title
        assert not any("{" in text or "}" in text for text in texts), incident.title
        # The tl;dr's duration is the one its milestones give.
        minutes = [
            (moment - incident.impact_started_at).total_seconds() / 60
            for moment in (incident.mitigated_at, incident.resolved_at)
        ]
        assert any(span(value) in incident.tldr for value in minutes), (incident.title, incident.tldr)
    # Told from several distinct stories, not one template with names swapped.
    assert len({story.key for story, _ in SCENARIOS}) >= 6
    first_tellings = written.exclude(title__endswith="(again)")
    assert len(set(first_tellings.values_list("what_happened", flat=True))) == first_tellings.count()
    assert all(not incident.what_happened for incident in Incident.objects.filter(status=Status.OPEN))


def test_each_incident_tells_the_story_its_title_names(demo):
    for incident in Incident.objects.prefetch_related("events"):
        story, variant = story_for(incident.title)
        assert incident.affected_service == variant.service
        assert incident.team.slug == variant.team
        values = words(variant, dict.fromkeys(("to_detect", "to_acknowledge", "to_status"), ""))
        event_texts = {event.text for event in incident.events.all()}
        story_texts = set()
        for event in story.events:
            try:
                story_texts.add(event.text.format(**values))
            except KeyError:
                continue
        assert event_texts & story_texts, incident.title


def test_remediation_items_come_from_their_incidents_story_and_are_owned_by_its_team(demo):
    items = RemediationItem.objects.filter(incident__isnull=False).select_related("incident__team", "owner")
    assert items.count() >= 80
    for item in items:
        incident = item.incident
        story, variant = story_for(incident.title)
        values = words(variant, {})
        titles = {entry.title.format(**values) for entry in story.items}
        assert item.title in titles, (incident.title, item.title)
        assert item.team == incident.team
        assert incident.team.members.filter(pk=item.owner_id).exists()
        assert incident.title in item.description


def _told(incidents) -> list[tuple]:
    return [
        (
            incident.title,
            incident.status,
            incident.team_id,
            *(getattr(incident, name) for name in SECTIONS),
            # The story's own events (the evidence demo adds deploys and graphs once).
            tuple(
                incident.events.exclude(kind__in=["deploy", "graph"])
                .order_by("occurred_at", "text")
                .values_list("text", flat=True)
            ),
            tuple(incident.remediation_items.order_by("title").values_list("title", "owner_id", "status")),
        )
        for incident in incidents.order_by("title")
    ]


def test_seeding_the_demo_incidents_again_from_nothing_tells_the_same_stories(demo):
    from incidents import demo as incidents_demo
    from incidents import demo_remediation, demo_running

    first = _told(Incident.objects.all())
    Incident.objects.all().delete()

    incidents_demo.seed()
    demo_remediation.seed()
    demo_running.seed()

    assert _told(Incident.objects.all()) == first
