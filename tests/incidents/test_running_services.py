"""Declaring, roles, status updates to subscribers (each copy once), the public page, templates, stars."""

import datetime as dt
import json

import pytest
import time_machine
from django.core import mail

from incidents.exports import postmortem_markdown
from incidents.models import (
    EventKind,
    PostmortemTemplate,
    RoleAssignment,
    Status,
    UpdateDelivery,
    UpdateDeliveryStatus,
)
from incidents.selectors import running as selectors
from incidents.services import running as services
from incidents.services.incident import create_incident
from morgue.exceptions import MorgueError
from morgue.models import EmailDelivery
from oncall.models import Page
from oncall.services import notifications
from oncall.services.pages import page_team
from tests.factories import IncidentFactory, ProfileFactory, TeamFactory, UserFactory, member_of
from tests.oncall.fakes import fake_server

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)


@pytest.fixture
def lead():
    """An incident lead: a responder, who may run unowned incidents (a test adds her to its teams)."""
    user = ProfileFactory(user=UserFactory(username="lena", email="lena@example.com")).user
    return member_of(TeamFactory(slug="leads"), "responder", user=user)


@time_machine.travel(NOW, tick=False)
def test_declaring_needs_a_title_severity_and_team_and_starts_now(lead, django_capture_on_commit_callbacks):
    team = TeamFactory(slug="payments", email="")
    member_of(team, "responder", user=lead)
    incident = services.declare_incident(by=lead, title="Card auths failing", severity=2, team=team)
    assert (incident.impact_started_at, incident.detected_at, incident.status) == (NOW, NOW, Status.OPEN)
    (role,) = RoleAssignment.objects.current().filter(incident=incident)
    assert (role.role.slug, role.user, role.assigned_at) == ("lead", lead, NOW)
    assert selectors.is_subscribed(incident=incident, user=lead)
    assert selectors.subscribed_teams(incident=incident) == [team.name]
    texts = list(incident.events.values_list("text", flat=True))
    assert texts[0].startswith("Declared by") and "incident lead" in texts[1]


@time_machine.travel(NOW, tick=False)
def test_declaring_from_a_page_links_both_ways_and_can_page_the_team(lead):
    team = TeamFactory(slug="search", email="")
    member_of(team, "responder", user=lead)
    page = page_team(team=team, message="Search latency", now=NOW - dt.timedelta(minutes=7))
    incident = services.declare_incident(
        by=lead, title="Search slow", severity=3, team=team, page=page, page_the_team=True
    )
    page.refresh_from_db()
    assert page.incident == incident
    assert incident.impact_started_at == NOW - dt.timedelta(minutes=7)
    assert set(incident.pages.values_list("message", flat=True)) == {
        "Search latency",
        "Incident declared: Search slow",
    }
    assert Page.objects.filter(incident=incident, created_by=lead).count() == 1


def test_a_blank_title_is_refused_naming_the_field(lead):
    with pytest.raises(MorgueError) as refused:
        services.declare_incident(by=lead, title="  ", severity=3, team=None)
    assert refused.value.field == "title"


def test_a_handover_ends_the_old_holder_and_both_go_on_the_timeline(lead):
    incident = IncidentFactory()
    other = ProfileFactory(user=UserFactory(username="omar")).user
    role = services.role_kind("communications")
    with time_machine.travel(NOW, tick=False):
        first = services.assign_role(incident=incident, role=role, user=lead, by=lead)
    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        second = services.assign_role(incident=incident, role=role, user=other, by=lead)
    first.refresh_from_db()
    assert first.ended_at == NOW + dt.timedelta(minutes=30) and second.ended_at is None
    events = list(incident.events.filter(kind=EventKind.ACTION).values_list("occurred_at", "text"))
    assert events[-1][0] == NOW + dt.timedelta(minutes=30)
    assert "handed over from" in events[-1][1]
    assert [a.user for a in RoleAssignment.objects.current().filter(incident=incident)] == [other]
    assert selectors.roles_held(user=other)[0].incident == incident


def test_a_staff_defined_role_is_assigned_like_the_built_in_ones(lead):
    from incidents.models import RoleKind

    RoleKind.objects.create(slug="customer-liaison", name="Customer liaison", order=40)
    incident = IncidentFactory()
    services.assign_role(incident=incident, role=services.role_kind("customer-liaison"), user=lead, by=lead)
    assert [row["role"].slug for row in selectors.roles_panel(incident=incident)][-1] == "customer-liaison"
    with pytest.raises(MorgueError):
        services.role_kind("no-such-role")


def _subscribed_incident(lead, chat):
    team = TeamFactory(slug="support", email="support@example.com", webhook_url=f"{chat.url}/team")
    incident = IncidentFactory(
        impact_started_at=NOW - dt.timedelta(hours=1), detected_at=NOW - dt.timedelta(hours=1)
    )
    services.subscribe(incident=incident, user=lead)
    services.subscribe(incident=incident, team=team)
    notifications.add_contact_method(user=lead, kind="slack", address=f"{chat.url}/slack")
    notifications.add_contact_method(user=lead, kind="teams", address=f"{chat.url}/teams")
    return incident


def test_a_status_update_reaches_every_subscriber_channel_once_however_often_it_runs(
    lead, settings, django_capture_on_commit_callbacks
):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with fake_server() as chat:
        incident = _subscribed_incident(lead, chat)
        with (
            time_machine.travel(NOW, tick=False),
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            update = services.post_status_update(
                incident=incident,
                by=lead,
                affected="Card payments fail for about a third of customers.",
                doing="Rolling back the release.",
                next_update_at=NOW + dt.timedelta(minutes=30),
            )
        assert len(callbacks) == 1
        assert services.deliver_status_update(update_id=update.pk) == 5
        assert services.deliver_status_update(update_id=update.pk) == 0
    assert sorted(request.path for request in chat.requests) == ["/slack", "/team", "/teams"]
    assert sorted(message.to[0] for message in mail.outbox) == ["lena@example.com", "support@example.com"]
    assert "Rolling back the release." in mail.outbox[0].body
    bodies = {request.path: json.loads(request.body) for request in chat.requests}
    assert "Card payments fail" in bodies["/slack"]["text"]
    assert bodies["/team"]["event"] == "incident.status_update"
    assert UpdateDelivery.objects.filter(status=UpdateDeliveryStatus.SENT).count() == 3
    assert EmailDelivery.objects.count() == 2
    incident.refresh_from_db()
    assert incident.status_posted_at == NOW


def test_a_chat_that_fails_is_retried_alone_and_a_second_update_keeps_the_first_status_time(lead, settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    with fake_server() as chat:
        incident = _subscribed_incident(lead, chat)
        chat.answers = [(503, {}), (200, {})]
        with time_machine.travel(NOW, tick=False):
            update = services.post_status_update(
                incident=incident, by=lead, affected="Checkout", doing="Looking"
            )
        with pytest.raises(services.DeliveryPending):
            services.deliver_status_update(update_id=update.pk)
        assert services.deliver_status_update(update_id=update.pk) == 1
        assert services.deliver_status_update(update_id=update.pk) == 0
        with time_machine.travel(NOW + dt.timedelta(minutes=20), tick=False):
            services.post_status_update(incident=incident, by=lead, affected="Checkout", doing="Fixed")
    assert len(mail.outbox) == 2
    incident.refresh_from_db()
    assert incident.status_posted_at == NOW


def test_an_unsubscribed_person_hears_nothing(lead):
    incident = IncidentFactory()
    services.subscribe(incident=incident, user=lead)
    services.unsubscribe(incident=incident, user=lead)
    assert services.subscriber_channels(incident=incident) == []


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("affected", {"affected": " ", "doing": "x"}),
        ("doing", {"affected": "x", "doing": ""}),
        ("next_update_at", {"affected": "x", "doing": "y", "next_update_at": NOW - dt.timedelta(minutes=1)}),
    ],
)
@time_machine.travel(NOW, tick=False)
def test_a_bad_status_update_is_refused_naming_the_field(lead, field, values):
    with pytest.raises(MorgueError) as refused:
        services.post_status_update(incident=IncidentFactory(), by=lead, **values)
    assert refused.value.field == field


def test_the_public_page_gets_an_unguessable_address_and_refuses_internal_details(lead):
    incident = IncidentFactory(title="Checkout errors")
    services.set_public(incident=incident, by=lead, public=True)
    incident.refresh_from_db()
    assert incident.is_public and len(incident.public_token) >= 32
    token = incident.public_token
    with pytest.raises(MorgueError) as refused:
        services.post_status_update(
            incident=incident, by=lead, affected="db-3.prod.example.com down", doing="x"
        )
    assert refused.value.field == "affected"
    services.set_public(incident=incident, by=lead, public=False)
    services.set_public(incident=incident, by=lead, public=True)
    incident.refresh_from_db()
    assert incident.public_token == token


def test_the_postmortem_is_published_only_once_reviewed_and_clean(lead):
    incident = IncidentFactory(
        status=Status.RESOLVED, resolved_at=NOW, tldr="ops@example.com saw 10.1.2.3 fail."
    )
    with pytest.raises(MorgueError, match="reviewed"):
        services.set_public(incident=incident, by=lead, public=True, postmortem=True)
    type(incident).objects.filter(pk=incident.pk).update(status=Status.REVIEWED)
    incident.refresh_from_db()
    with pytest.raises(MorgueError, match="e-mail address"):
        services.set_public(incident=incident, by=lead, public=True, postmortem=True)
    type(incident).objects.filter(pk=incident.pk).update(tldr="A bad release; rolled back in 20 minutes.")
    incident.refresh_from_db()
    assert services.set_public(incident=incident, by=lead, public=True, postmortem=True).public_postmortem


def test_a_new_postmortem_starts_from_the_best_matching_template(lead):
    team = TeamFactory(slug="edge")
    member_of(team, "responder", user=lead)
    PostmortemTemplate.objects.create(name="All", sections=[{"section": "tldr", "prompt": "Short."}])
    PostmortemTemplate.objects.create(
        name="Sev 1", severity=1, sections=[{"section": "what_happened", "prompt": "Minute by minute."}]
    )
    best = PostmortemTemplate.objects.create(
        name="Edge sev 1",
        severity=1,
        team=team,
        sections=[
            {"section": "went_well", "prompt": "Which runbook helped?"},
            {"section": "tldr", "prompt": ""},
        ],
    )
    incident = create_incident(
        by=lead, title="x", severity=1, team=team, impact_started_at=NOW, detected_at=NOW
    )
    assert incident.postmortem_template == best
    assert [(name, prompt) for name, _, prompt in selectors.postmortem_sections(incident=incident)] == [
        ("went_well", "Which runbook helped?"),
        ("tldr", "Two or three sentences: what broke, for whom, for how long, and what fixed it."),
    ]
    other = create_incident(by=lead, title="y", severity=4, team=None, impact_started_at=NOW, detected_at=NOW)
    assert other.postmortem_template.name == "All"


def test_starred_events_and_remediation_items_are_in_the_markdown_export(lead):
    from tests.factories import RemediationItemFactory, TimelineEventFactory

    incident = IncidentFactory()
    key = TimelineEventFactory(incident=incident, text="Rolled back release 42")
    TimelineEventFactory(incident=incident, text="Looked at graphs")
    services.star_event(event=key, starred=True)
    RemediationItemFactory(incident=incident, title="Canary the card service")
    text = postmortem_markdown(incident, zone=dt.UTC)
    starred = text.split("## Key moments")[1].split("##")[0]
    assert "Rolled back release 42" in starred and "Looked at graphs" not in starred
    assert "Canary the card service" in text.split("## Remediation items")[1]
