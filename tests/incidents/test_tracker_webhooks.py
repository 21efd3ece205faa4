"""Trackers' webhooks: checked by their proof; an issue closing marks its item done, reopening reopens it.

Bodies follow the vendors' documented payloads: GitHub's `issues` event
(https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues), GitLab's
issue event (https://docs.gitlab.com/user/project/integrations/webhook_events/#work-item-events)
and Jira's `jira:issue_updated`
(https://developer.atlassian.com/cloud/jira/platform/webhooks/#example-callback-for-an-issue-related-event).
"""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.test import Client

from incidents.models import EventKind, RemediationStatus, TrackerIssue, TrackerIssueStatus
from incidents.services import remediation as remediation_services
from incidents.services import trackers as services
from incidents.tasks.trackers import create_tracker_issue
from morgue.models import AuditEntry
from tests.factories import IncidentFactory, RemediationItemFactory, TeamFactory

from .tracker_fakes import TOKEN, fake_tracker

pytestmark = pytest.mark.django_db

SECRET = "It's a Secret to Everybody"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.GITHUB_WEBHOOK_SECRET = settings.JIRA_WEBHOOK_SECRET = SECRET
    settings.GITLAB_WEBHOOK_SECRET = SECRET
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    settings.GITHUB_TOKEN = TOKEN
    return settings


@pytest.fixture
def tracker_client():
    """A tracker: nobody signed in, no CSRF token, as webhooks arrive."""
    return Client(enforce_csrf_checks=True)


def _linked(kind: str, remote_id: str, key: str, **item_options) -> TrackerIssue:
    item = RemediationItemFactory(**item_options)
    return TrackerIssue.objects.create(
        item=item,
        kind=kind,
        base_url="https://tracker.example",
        project="acme/api",
        marker=f"morgue-item-{item.pk}",
        status=TrackerIssueStatus.LINKED,
        remote_id=remote_id,
        key=key,
        number=key.rsplit("#", 1)[-1],
        url=f"https://tracker.example/{key}",
        remote_state="open",
    )


def _github(action: str, *, issue_id: int = 1001, state: str = "", updated_at: str = "2026-03-02T10:00:00Z"):
    return {
        "action": action,
        "issue": {
            "url": "https://api.github.com/repos/acme/api/issues/1",
            "html_url": "https://github.com/acme/api/issues/1",
            "id": issue_id,
            "number": 1,
            "title": "Alert on queue depth",
            "state": state or ("closed" if action == "closed" else "open"),
            "state_reason": "completed" if action == "closed" else None,
            "labels": [{"id": 1, "name": "morgue-item-1"}],
            "updated_at": updated_at,
        },
        "repository": {"id": 1296269, "full_name": "acme/api"},
        "sender": {"login": "octocat", "id": 1},
    }


def _signed(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post_github(
    client, payload, *, event: str = "issues", signature: str | None = None, raw: bytes | None = None
):
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(
        "/integrations/github/",
        body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "X-Hub-Signature-256": _signed(body) if signature is None else signature,
        },
    )


def test_a_github_issue_closing_marks_its_item_done_and_reopening_reopens_it(tracker_client):
    incident = IncidentFactory()
    issue = _linked("github", "1001", "acme/api#1", incident=incident)
    response = _post_github(tracker_client, _github("closed"))
    assert response.status_code == 200, response.content
    assert "is now done (GitHub issue acme/api#1 closed)" in response.json()["detail"]
    item = issue.item
    item.refresh_from_db()
    assert item.status == RemediationStatus.DONE and item.completed_at is not None
    issue.refresh_from_db()
    assert issue.remote_state == "closed"
    # The trail and the timeline say it came from the tracker.
    entry = AuditEntry.objects.filter(kind="incidents.remediationitem", object_id=str(item.pk)).latest("id")
    assert entry.actor_id is None and entry.actor_label == "GitHub (webhook)"
    assert entry.changes["status"] == ["open", "done"]
    event = incident.events.get()
    assert event.kind == EventKind.ACTION and event.speaker == "GitHub"
    assert event.text == (f"GitHub issue acme/api#1 was closed: remediation item “{item.title}” is now done.")
    assert event.link == issue.url

    response = _post_github(tracker_client, _github("reopened", updated_at="2026-03-03T10:00:00Z"))
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.status == RemediationStatus.OPEN and item.completed_at is None
    assert incident.events.count() == 2


def test_a_delivery_with_a_wrong_signature_is_401_and_changes_nothing(tracker_client):
    issue = _linked("github", "1001", "acme/api#1")
    payload = json.dumps(_github("closed")).encode()
    for signature, sentence in (
        (_signed(payload, "another secret"), "does not match the body signed with the webhook secret"),
        ("", "The X-Hub-Signature-256 header is missing."),
    ):
        response = _post_github(tracker_client, None, raw=payload, signature=signature)
        assert response.status_code == 401
        assert sentence in response.json()["detail"]
    # Signed, then changed on the way.
    tampered = payload.replace(b'"closed"', b'"open"', 1)
    response = _post_github(tracker_client, None, raw=tampered, signature=_signed(payload))
    assert response.status_code == 401
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.OPEN


def test_without_a_configured_secret_every_delivery_is_refused(tracker_client, secrets):
    secrets.GITHUB_WEBHOOK_SECRET = ""
    _linked("github", "1001", "acme/api#1")
    response = _post_github(tracker_client, _github("closed"), signature=_signed(b"{}", ""))
    assert response.status_code == 403
    assert response.json()["detail"] == "GitHub webhooks are not accepted: no webhook secret is configured."


def test_a_signed_body_that_is_not_json_is_400_with_a_sentence(tracker_client):
    response = _post_github(tracker_client, None, raw=b'{"action": "closed",')
    assert response.status_code == 400
    assert response.json() == {"detail": "The body is not valid JSON."}
    response = _post_github(tracker_client, None, raw=b'{"action": "closed", "issue": "1001"}')
    assert response.status_code == 400
    assert response.json() == {"detail": "The body has no issue object."}


def test_an_unknown_issue_or_another_event_is_answered_200_and_ignored(tracker_client):
    issue = _linked("github", "1001", "acme/api#1")
    response = _post_github(tracker_client, _github("closed", issue_id=999))
    assert response.status_code == 200
    assert response.json()["detail"] == "Ignored: no remediation item follows this issue."
    ping = {"zen": "Keep it logically awesome.", "hook_id": 1}
    response = _post_github(tracker_client, ping, event="ping")
    assert response.status_code == 200 and response.json()["detail"].startswith("Ignored")
    response = _post_github(tracker_client, _github("labeled"))
    assert response.status_code == 200 and response.json()["detail"].startswith("Ignored")
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.OPEN


def test_a_delivery_older_than_the_last_one_applied_is_ignored(tracker_client):
    issue = _linked("github", "1001", "acme/api#1")
    assert (
        _post_github(tracker_client, _github("closed", updated_at="2026-03-02T10:00:00Z")).status_code == 200
    )
    # GitHub redelivers an older "reopened" later: the issue is still closed.
    response = _post_github(tracker_client, _github("reopened", updated_at="2026-03-01T09:00:00Z"))
    assert response.json()["detail"] == "Ignored: this delivery is older than the last one applied."
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.DONE


def test_a_closing_that_morgue_itself_asked_for_changes_nothing_more(tracker_client):
    issue = _linked("github", "1001", "acme/api#1")
    remediation_services.change_status(item=issue.item, status=RemediationStatus.WONT_DO, reason="Replaced")
    response = _post_github(tracker_client, _github("closed"))
    assert response.json()["detail"] == f"Nothing to change: item {issue.item_id} is already won't do."
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.WONT_DO


def _gitlab(state: str, *, issue_id: int = 5001):
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "user": {"id": 1, "name": "Administrator", "username": "root"},
        "project": {
            "id": 42,
            "name": "api",
            "path_with_namespace": "acme/api",
            "web_url": "https://gitlab.example/acme/api",
        },
        "object_attributes": {
            "id": issue_id,
            "iid": 1,
            "title": "Alert on queue depth",
            "state": state,
            "action": "close" if state == "closed" else "reopen",
            "updated_at": "2026-03-02 10:00:00 UTC",
            "url": "https://gitlab.example/acme/api/-/issues/1",
        },
        "labels": [{"id": 206, "title": "morgue-item-1"}],
    }


def test_gitlab_deliveries_are_checked_by_their_token(tracker_client):
    issue = _linked("gitlab", "5001", "acme/api#1")
    body = json.dumps(_gitlab("closed"))
    headers = {"X-Gitlab-Event": "Issue Hook"}
    wrong = tracker_client.post(
        "/integrations/gitlab/",
        body,
        content_type="application/json",
        headers={**headers, "X-Gitlab-Token": "guess"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "The X-Gitlab-Token header does not match the webhook secret."
    missing = tracker_client.post(
        "/integrations/gitlab/", body, content_type="application/json", headers=headers
    )
    assert missing.status_code == 401
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.OPEN
    right = tracker_client.post(
        "/integrations/gitlab/webhook/",
        body,
        content_type="application/json",
        headers={**headers, "X-Gitlab-Token": SECRET},
    )
    assert right.status_code == 200, right.content
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.DONE


def _jira(category: str, *, issue_id: str = "10001", timestamp: int = 1772445600000):
    return {
        "timestamp": timestamp,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
        "issue": {
            "id": issue_id,
            "self": "https://example.atlassian.net/rest/api/2/issue/10001",
            "key": "OPS-1",
            "fields": {
                "summary": "Alert on queue depth",
                "labels": ["morgue-item-1"],
                "status": {
                    "name": "Done" if category == "done" else "To Do",
                    "statusCategory": {"key": category},
                },
            },
        },
        "changelog": {
            "id": "10100",
            "items": [{"field": "status", "fromString": "To Do", "toString": "Done"}],
        },
    }


@pytest.mark.parametrize("kind", ["jira", "jira-server"])
def test_jira_deliveries_are_checked_by_their_hmac_signature(tracker_client, kind):
    issue = _linked(kind, "10001", "OPS-1")
    body = json.dumps(_jira("done")).encode()
    wrong = tracker_client.post(
        "/integrations/jira/",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature": _signed(body, "x")},
    )
    assert wrong.status_code == 401
    assert "X-Hub-Signature header does not match" in wrong.json()["detail"]
    right = tracker_client.post(
        "/integrations/jira/",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature": _signed(body)},
    )
    assert right.status_code == 200, right.content
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.DONE
    later = json.dumps(_jira("new", timestamp=1772449200000)).encode()
    tracker_client.post(
        "/integrations/jira/",
        later,
        content_type="application/json",
        headers={"X-Hub-Signature": _signed(later)},
    )
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.OPEN


def test_a_reopened_issue_of_a_closed_incident_leaves_its_item_done(tracker_client):
    from incidents.models import Status

    incident = IncidentFactory()
    issue = _linked("github", "1001", "acme/api#1", incident=incident)
    remediation_services.change_status(item=issue.item, status=RemediationStatus.DONE)
    type(incident).objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    response = _post_github(tracker_client, _github("reopened"))
    assert response.status_code == 200
    assert response.json()["detail"].startswith(f"Not applied: Incident #{incident.pk} is closed")
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.DONE


def test_an_item_creates_a_github_issue_whose_closing_marks_the_item_done(
    tracker_client, django_capture_on_commit_callbacks
):
    with fake_tracker("github") as github:
        team = TeamFactory()
        services.set_team_tracker(team=team, kind="github", project="acme/api", base_url=github.url)
        item = RemediationItemFactory(team=team, incident=IncidentFactory())
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item, requested_by=item.owner)
        create_tracker_issue(issue.pk)
        created = github.issues[0]
    # GitHub closes it and tells Morgue, with the issue as it created it.
    payload = _github("closed", issue_id=created["id"])
    payload["issue"]["updated_at"] = (dt.datetime(2026, 3, 5, tzinfo=dt.UTC)).isoformat()
    response = _post_github(tracker_client, payload)
    assert response.status_code == 200, response.content
    item.refresh_from_db()
    assert item.status == RemediationStatus.DONE


def test_a_github_issue_closed_as_not_planned_makes_its_item_wont_do_with_a_reason(tracker_client):
    issue = _linked("github", "1001", "acme/api#1")
    payload = _github("closed")
    payload["issue"]["state_reason"] = "not_planned"
    assert _post_github(tracker_client, payload).status_code == 200
    issue.item.refresh_from_db()
    assert issue.item.status == RemediationStatus.WONT_DO
    assert issue.item.wont_do_reason == "Closed as not planned in GitHub (acme/api#1)."


def test_deliveries_that_change_no_state_change_nothing(tracker_client):
    done = _linked("gitlab", "5001", "acme/api#1")
    remediation_services.change_status(item=done.item, status=RemediationStatus.DONE)
    # An edit of an open GitLab issue (its action "update") must not reopen a done item.
    edited = _gitlab("opened")
    edited["object_attributes"]["action"] = "update"
    response = tracker_client.post(
        "/integrations/gitlab/",
        json.dumps(edited),
        content_type="application/json",
        headers={"X-Gitlab-Token": SECRET},
    )
    assert response.status_code == 200 and response.json()["detail"].startswith("Ignored")
    done.item.refresh_from_db()
    assert done.item.status == RemediationStatus.DONE
    jira = _linked("jira", "10001", "OPS-1")
    comment_only = _jira("done")
    comment_only["changelog"]["items"] = [{"field": "summary", "fromString": "a", "toString": "b"}]
    body = json.dumps(comment_only).encode()
    response = tracker_client.post(
        "/integrations/jira/",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature": _signed(body)},
    )
    assert response.status_code == 200 and response.json()["detail"].startswith("Ignored")
    jira.item.refresh_from_db()
    assert jira.item.status == RemediationStatus.OPEN
