"""The "create issue in tracker" button on an item's card, and `POST /api/v1/remediations/{id}/ticket/`."""

import pytest

from incidents.models import TeamTracker, TrackerIssue, TrackerIssueStatus
from incidents.services import trackers as services
from morgue.celery import app
from tests.factories import IncidentFactory, RemediationItemFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append((name, *args)))
    return sent


@pytest.fixture
def item():
    team = TeamFactory(name="Payments", slug="payments")
    services.set_team_tracker(team=team, kind="github", project="acme/api")
    return RemediationItemFactory(team=team, incident=IncidentFactory())


def _link(issue: TrackerIssue) -> None:
    TrackerIssue.objects.filter(pk=issue.pk).update(
        status=TrackerIssueStatus.LINKED,
        remote_id="1001",
        key="acme/api#7",
        url="https://github.com/acme/api/issues/7",
        number="7",
        remote_state="open",
    )


def test_the_api_action_asks_for_the_issue_once_and_answers_202_until_it_exists(
    api, person, item, queued, django_capture_on_commit_callbacks
):
    member_of(item.team, "responder", user=person)  # who may change Payments's remediation items
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"/api/v1/remediations/{item.pk}/ticket/", {}, format="json")
        again = api.post(f"/api/v1/remediations/{item.pk}/ticket/", {}, format="json")
    assert first.status_code == again.status_code == 202, first.content
    assert first.json()["status"] == "pending" and first.json()["tracker"] == "github"
    issue = TrackerIssue.objects.get(item=item)
    assert queued == [("incidents.tasks.trackers.create_tracker_issue", issue.pk)]
    _link(issue)
    linked = api.post(f"/api/v1/remediations/{item.pk}/ticket/", {}, format="json")
    assert linked.status_code == 200
    assert linked.json()["key"] == "acme/api#7"
    shown = api.get(f"/api/v1/remediations/{item.pk}/").json()
    assert shown["tracker_issue"]["url"] == "https://github.com/acme/api/issues/7"
    assert shown["tracker_issue"]["remote_state"] == "open"


def test_a_viewer_of_the_items_team_is_refused_with_a_sentence_and_nothing_is_asked(
    api, person, item, queued, django_capture_on_commit_callbacks
):
    member_of(item.team, "viewer", user=person)
    with django_capture_on_commit_callbacks(execute=True):
        create = api.post(f"/api/v1/remediations/{item.pk}/ticket/", {}, format="json")
        follow = api.post(
            f"/api/v1/remediations/{item.pk}/ticket/",
            {"url": "https://github.com/acme/api/issues/42"},
            format="json",
        )
    sentence = "Only a responder of Payments may change its remediation items."
    assert (create.status_code, create.json()) == (403, {"detail": sentence})
    assert (follow.status_code, follow.json()) == (403, {"detail": sentence})
    assert not TrackerIssue.objects.exists()
    assert queued == []


def test_the_api_action_takes_a_tracker_and_repository_for_an_item_without_one(api, queued, settings):
    item = RemediationItemFactory(team=None)
    response = api.post(
        f"/api/v1/remediations/{item.pk}/ticket/",
        {"tracker": "github", "repository": "acme/web"},
        format="json",
    )
    assert response.status_code == 202, response.content
    issue = TrackerIssue.objects.get(item=item)
    assert (issue.kind, issue.project, issue.base_url) == ("github", "acme/web", settings.GITHUB_API_URL)


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ({}, 400, "This item has no team, and so it has no tracker"),
        (
            {"tracker": "trello", "project": "x"},
            400,
            "“trello” is not a tracker; use github, gitlab, jira, jira-server.",
        ),
        ({"tracker": "github"}, 400, "Say which project (or repository) to create it in."),
        ({"tracker": "github", "project": "acme"}, 400, "“acme” is not a GitHub repository"),
        ({"tracker": "jira", "project": "OPS", "assignee": "dana"}, 400, "assignee is not a field here"),
        (
            {"tracker": "gitlab", "project": "acme/api", "base_url": "http://10.1.2.3"},
            400,
            "Morgue does not call",
        ),
    ],
)
def test_the_api_action_refuses_with_a_sentence_and_saves_nothing(api, queued, body, status, sentence):
    item = RemediationItemFactory(team=None)
    response = api.post(f"/api/v1/remediations/{item.pk}/ticket/", body, format="json")
    assert response.status_code == status, response.content
    assert sentence in response.json()["detail"]
    assert not TrackerIssue.objects.exists()
    assert queued == []


def test_the_remediation_list_joins_the_tracker_issue(api, item, django_assert_max_num_queries):
    _link(services.request_issue(item=item))
    for _ in range(3):
        RemediationItemFactory(team=item.team)
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/remediations/")
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[item.pk]["tracker_issue"]["key"] == "acme/api#7"
    assert sum(row["tracker_issue"] is None for row in rows.values()) == 3


def test_the_button_asks_for_the_issue_and_the_card_then_shows_it(
    browser_client, person, item, queued, django_capture_on_commit_callbacks
):
    member_of(item.team, "responder", user=person)
    page = f"/remediations/incident/{item.incident_id}/"
    html = browser_client.get(page).content.decode()
    assert f'action="/remediations/{item.pk}/tracker/"' in html
    assert "Create issue in GitHub" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = browser_client.post(f"/remediations/{item.pk}/tracker/", {"next": page})
    assert response.status_code == 302
    assert response["Location"] == f"{page}#remediation-{item.pk}"
    assert len(queued) == 1
    shown = browser_client.get(page).content.decode()
    assert "Creating an issue in GitHub (acme/api) for" in shown  # the message
    assert "Creating an issue in GitHub (acme/api)…" in shown  # the card
    assert "Create issue in GitHub" not in shown
    _link(TrackerIssue.objects.get(item=item))
    linked = browser_client.get(page).content.decode()
    link = '<a href="https://github.com/acme/api/issues/7" rel="noopener noreferrer" class="tracker-link">'
    assert f"{link}acme/api#7</a>" in linked


def test_the_button_is_not_offered_without_a_tracker_and_a_post_says_why(browser_client, person, queued):
    item = RemediationItemFactory(team=TeamFactory(name="Web"))
    member_of(item.team, "responder", user=person)
    page = f"/remediations/incident/{item.incident_id}/"
    assert f"/remediations/{item.pk}/tracker/" not in browser_client.get(page).content.decode()
    response = browser_client.post(f"/remediations/{item.pk}/tracker/", {"next": page}, follow=True)
    assert "The team Web has no tracker" in response.content.decode()
    assert not TrackerIssue.objects.exists()


def test_a_refused_issue_shows_why_and_offers_to_try_again(browser_client, item, queued):
    issue = services.request_issue(item=item)
    TrackerIssue.objects.filter(pk=issue.pk).update(
        status=TrackerIssueStatus.FAILED,
        last_error="GitHub refused Morgue's credentials (HTTP 401); check the token.",
    )
    html = browser_client.get(f"/remediations/incident/{item.incident_id}/").content.decode()
    assert "The GitHub issue could not be created: GitHub refused Morgue&#x27;s credentials" in html
    assert "Try again" in html


def test_the_button_address_opened_directly_leads_back_to_the_item(browser_client, item):
    response = browser_client.get(f"/remediations/{item.pk}/tracker/")
    assert response.status_code == 302
    assert response["Location"] == f"/remediations/incident/{item.incident_id}/"


def test_the_demo_payments_team_files_issues_in_github_and_some_items_show_theirs(demo, browser_client):
    tracker = TeamTracker.objects.get(team__slug="payments")
    assert (tracker.kind, tracker.project) == ("github", "acme/payments")
    linked = TrackerIssue.objects.filter(status=TrackerIssueStatus.LINKED).select_related("item")
    assert linked.count() == 3
    issue = linked.first()
    html = browser_client.get(f"/remediations/incident/{issue.item.incident_id}/").content.decode()
    assert f">{issue.key}</a>" in html
    assert issue.item.ticket_url == issue.url


def test_an_issue_that_could_not_be_updated_says_so_on_the_card(browser_client, item):
    issue = services.request_issue(item=item)
    _link(issue)
    TrackerIssue.objects.filter(pk=issue.pk).update(last_error="GitHub could not be reached (timed out).")
    html = browser_client.get(f"/remediations/incident/{item.incident_id}/").content.decode()
    assert "Status in GitHub unknown: GitHub could not be reached (timed out)." in html


def test_the_api_action_follows_an_existing_issue_by_its_address(api, queued):
    item = RemediationItemFactory(team=None)
    url = "https://github.com/acme/api/issues/42"
    response = api.post(f"/api/v1/remediations/{item.pk}/ticket/", {"url": url}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["key"] == "acme/api#42" and response.json()["status"] == "pending"
    again = api.post(
        f"/api/v1/remediations/{item.pk}/ticket/",
        {"url": "https://github.com/acme/api/issues/43"},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["detail"] == "This item already has GitHub issue acme/api#42."
    both = api.post(
        f"/api/v1/remediations/{RemediationItemFactory().pk}/ticket/",
        {"url": url, "tracker": "github"},
        format="json",
    )
    assert both.status_code == 400
    assert "Give either the issue's address or tracker, not both." in both.json()["detail"]


def test_staff_name_a_teams_tracker_in_the_admin_and_a_private_address_is_refused_on_the_form(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    team = TeamFactory(name="Search", slug="search")
    form = {
        "team": team.pk,
        "kind": "gitlab",
        "base_url": "http://10.0.0.5",
        "project": "search/api",
        "issue_type": "Task",
    }
    refused = client.post("/admin/incidents/teamtracker/add/", form)
    assert refused.status_code == 200
    assert "Morgue does not call that address: it is not a public address." in refused.content.decode()
    assert not TeamTracker.objects.exists()
    saved = client.post("/admin/incidents/teamtracker/add/", {**form, "base_url": ""})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    tracker = TeamTracker.objects.get(team=team)
    assert (tracker.kind, tracker.project, tracker.base_url) == ("gitlab", "search/api", "")
    from morgue.models import AuditEntry

    assert AuditEntry.objects.filter(kind="incidents.teamtracker", action="created").exists()
