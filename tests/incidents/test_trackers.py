"""Remediation items become issues in GitHub, GitLab and Jira: once, with each one's auth; closed from Morgue.

The trackers are local fakes (tests/incidents/tracker_fakes.py) written to each
vendor's published request and response shapes; the tasks are called directly.
"""

import base64
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import trackers
from incidents.exceptions import TrackerNotConfigured, TrackerUnavailable
from incidents.models import RemediationStatus, TrackerIssue, TrackerIssueStatus
from incidents.services import remediation as remediation_services
from incidents.services import trackers as services
from incidents.tasks.trackers import (
    create_tracker_issue,
    push_tracker_state,
    refresh_tracker_issue,
    requeue_lost_tracker_issues,
)
from morgue.celery import app
from morgue.models import AuditEntry
from tests.factories import RemediationItemFactory, TeamFactory, UserFactory

from .tracker_fakes import JIRA_USER, TOKEN, fake_tracker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def credentials(settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    settings.GITHUB_TOKEN = settings.GITLAB_TOKEN = settings.JIRA_API_TOKEN = TOKEN
    settings.JIRA_EMAIL = JIRA_USER
    settings.TRACKER_TIMEOUT_SECONDS = 2.0
    return settings


@pytest.fixture
def queued(monkeypatch):
    """Tasks sent (by name and ids), instead of a broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **options: sent.append((name, *args)))
    return sent


def _item_for(fake, kind: str, project: str, **team_options):
    team = TeamFactory(slug=f"payments-{kind}")
    services.set_team_tracker(team=team, kind=kind, project=project, base_url=fake.url, **team_options)
    return RemediationItemFactory(
        team=team, title="Alert on queue depth", description="Page before it fills."
    )


def _create(item, django_capture_on_commit_callbacks) -> TrackerIssue:
    with django_capture_on_commit_callbacks(execute=False):
        issue = services.request_issue(item=item, requested_by=item.owner)
    create_tracker_issue(issue.pk)
    issue.refresh_from_db()
    return issue


def test_a_github_issue_is_created_with_a_bearer_token_and_its_marker_label(
    django_capture_on_commit_callbacks,
):
    with fake_tracker("github") as github:
        item = _item_for(github, "github", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
    [call] = github.requests
    assert (call.method, call.path) == ("POST", "/repos/acme/api/issues")
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Accept"] == "application/vnd.github+json"
    assert call.headers["X-GitHub-Api-Version"] == "2022-11-28"
    sent = json.loads(call.body)
    assert sent["title"] == "Alert on queue depth"
    assert sent["labels"] == [f"morgue-item-{item.pk}"]
    assert "Page before it fills." in sent["body"] and f"#remediation-{item.pk}" in sent["body"]
    assert issue.status == TrackerIssueStatus.LINKED
    assert (issue.key, issue.number, issue.remote_id, issue.remote_state) == (
        "acme/api#1",
        "1",
        "1001",
        "open",
    )
    item.refresh_from_db()
    assert item.ticket_url == "https://github.example/acme/api/issues/1" == issue.url


def test_a_gitlab_issue_is_created_with_a_private_token_in_a_project_named_by_its_path(
    django_capture_on_commit_callbacks,
):
    with fake_tracker("gitlab", projects=("acme/api",)) as gitlab:
        item = _item_for(gitlab, "gitlab", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
    [call] = gitlab.requests
    assert (call.method, call.path) == ("POST", "/api/v4/projects/acme%2Fapi/issues")
    assert call.headers["PRIVATE-TOKEN"] == TOKEN
    assert "Authorization" not in call.headers
    assert json.loads(call.body)["labels"] == f"morgue-item-{item.pk}"
    assert (issue.key, issue.number, issue.url) == (
        "acme/api#1",
        "1",
        "https://gitlab.example/acme/api/-/issues/1",
    )


@pytest.mark.parametrize(
    ("kind", "path"), [("jira", "/rest/api/3/issue"), ("jira-server", "/rest/api/2/issue")]
)
def test_a_jira_issue_is_created_with_basic_auth_and_the_description_each_version_wants(
    kind, path, django_capture_on_commit_callbacks
):
    with fake_tracker(kind) as jira:
        item = _item_for(jira, kind, "OPS", issue_type="Bug")
        issue = _create(item, django_capture_on_commit_callbacks)
    [call] = jira.requests
    assert (call.method, call.path) == ("POST", path)
    assert (
        call.headers["Authorization"] == "Basic " + base64.b64encode(f"{JIRA_USER}:{TOKEN}".encode()).decode()
    )
    fields = json.loads(call.body)["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Bug"}
    assert fields["labels"] == [f"morgue-item-{item.pk}"]
    # Cloud's v3 takes rich text (an Atlassian document); Server's v2 plain text.
    assert isinstance(fields["description"], dict if kind == "jira" else str)
    assert (issue.key, issue.remote_id) == ("OPS-1", "10001")
    assert issue.url == f"{jira.url}/browse/OPS-1"


def test_a_retry_after_a_timeout_finds_the_issue_the_tracker_made_instead_of_making_a_second(
    credentials, django_capture_on_commit_callbacks
):
    credentials.TRACKER_TIMEOUT_SECONDS = 0.5
    with fake_tracker("github") as github:
        # The first create is stored by GitHub but answered after Morgue stopped waiting.
        github.create_delays = [1.5, 0.0]
        item = _item_for(github, "github", "acme/api")
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item, requested_by=item.owner)
        with pytest.raises(TrackerUnavailable):
            create_tracker_issue(issue.pk)
        issue.refresh_from_db()
        assert issue.status == TrackerIssueStatus.PENDING and issue.claimed_until is None
        assert "could not be reached" in issue.last_error
        create_tracker_issue(issue.pk)  # the retry
        create_tracker_issue(issue.pk)  # a redelivered task: nothing left to do
        issue.refresh_from_db()
        assert len(github.issues) == 1
        assert [call.method for call in github.requests] == ["POST", "GET"]
        assert f"labels=morgue-item-{item.pk}" in github.requests[1].path
    assert issue.status == TrackerIssueStatus.LINKED and issue.key == "acme/api#1" and issue.attempts == 2


def test_an_attempt_holding_the_claim_keeps_a_second_worker_from_calling(django_capture_on_commit_callbacks):
    with fake_tracker("gitlab") as gitlab:
        item = _item_for(gitlab, "gitlab", "acme/api")
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item)
        # Another worker claimed it a moment ago and is still calling.
        TrackerIssue.objects.filter(pk=issue.pk).update(claimed_until="2999-01-01T00:00:00Z", attempts=1)
        create_tracker_issue(issue.pk)
        assert gitlab.requests == []


def test_a_tracker_that_refuses_leaves_a_sentence_and_asking_again_retries(
    django_capture_on_commit_callbacks,
):
    with fake_tracker("github", projects=("acme/other",)) as github:
        item = _item_for(github, "github", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
        assert issue.status == TrackerIssueStatus.FAILED
        assert issue.last_error == "GitHub has no project “acme/api” that the token can see (HTTP 404)."
        github.projects = ("acme/api",)
        again = _create(item, django_capture_on_commit_callbacks)
    assert again.pk == issue.pk and again.status == TrackerIssueStatus.LINKED


def test_wrong_credentials_are_a_refusal_naming_the_token(credentials, django_capture_on_commit_callbacks):
    credentials.GITLAB_TOKEN = "wrong"
    with fake_tracker("gitlab") as gitlab:
        issue = _create(_item_for(gitlab, "gitlab", "acme/api"), django_capture_on_commit_callbacks)
    assert issue.status == TrackerIssueStatus.FAILED
    assert "refused Morgue's credentials (HTTP 401)" in issue.last_error


def test_a_tracker_answering_503_is_retried_later(django_capture_on_commit_callbacks):
    with fake_tracker("jira") as jira:
        jira.outage = (503, {"errorMessages": ["Down for maintenance"]})
        item = _item_for(jira, "jira", "OPS")
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item)
        with pytest.raises(TrackerUnavailable, match="answered 503"):
            create_tracker_issue(issue.pk)
    issue.refresh_from_db()
    assert issue.status == TrackerIssueStatus.PENDING


def test_asking_twice_makes_one_issue_and_one_task(queued):
    team = TeamFactory()
    services.set_team_tracker(team=team, kind="github", project="acme/api", base_url="http://127.0.0.1:9")
    item = RemediationItemFactory(team=team)
    first = services.request_issue(item=item)
    second = services.request_issue(item=item)
    assert first.pk == second.pk
    assert TrackerIssue.objects.count() == 1


def test_an_item_whose_team_has_no_tracker_is_refused_with_a_sentence():
    item = RemediationItemFactory(team=TeamFactory(name="Payments"))
    with pytest.raises(TrackerNotConfigured, match="The team Payments has no tracker"):
        services.request_issue(item=item)
    assert not TrackerIssue.objects.exists()


def test_a_team_tracker_at_a_private_address_is_refused(credentials):
    credentials.MORGUE_OUTBOUND_ALLOW_LOOPBACK = False
    team = TeamFactory()
    for address in ("http://127.0.0.1:8080", "http://10.0.0.7", "http://169.254.169.254"):
        with pytest.raises(ValidationError, match="Morgue does not call that address"):
            services.set_team_tracker(team=team, kind="gitlab", project="acme/api", base_url=address)
    with pytest.raises(ValidationError, match="not a GitHub repository"):
        services.set_team_tracker(team=team, kind="github", project="acme", base_url="https://api.github.com")


def test_a_team_that_asks_gets_an_issue_for_each_new_item(queued, django_capture_on_commit_callbacks):
    team = TeamFactory()
    services.set_team_tracker(team=team, kind="github", project="acme/api", create_automatically=True)
    owner = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        item = remediation_services.create_item(
            incident=None,
            title="Rate-limit the importer",
            kind="dev",
            category="prevent",
            owner=owner,
            team=team,
            origin_title="Alerts review",
            origin_url="/alerts/",
        )
    issue = TrackerIssue.objects.get(item=item)
    assert issue.base_url == "https://api.github.com" and issue.project == "acme/api"
    assert queued == [("incidents.tasks.trackers.create_tracker_issue", issue.pk)]


def test_a_team_that_does_not_ask_gets_no_issue_on_create(queued, django_capture_on_commit_callbacks):
    team = TeamFactory()
    services.set_team_tracker(team=team, kind="github", project="acme/api")
    with django_capture_on_commit_callbacks(execute=True):
        item = remediation_services.create_item(
            incident=None, title="Rate-limit", kind="dev", category="prevent", owner=UserFactory(), team=team,
            origin_title="Alerts review", origin_url="/alerts/",
        )  # fmt: skip
    assert not TrackerIssue.objects.filter(item=item).exists()
    assert queued == []


@pytest.mark.parametrize(
    ("kind", "project", "expected"),
    [
        (
            "github",
            "acme/api",
            ("PATCH", "/repos/acme/api/issues/1", {"state": "closed", "state_reason": "completed"}),
        ),
        ("gitlab", "acme/api", ("PUT", "/api/v4/projects/acme%2Fapi/issues/1", {"state_event": "close"})),
        ("jira", "OPS", ("POST", "/rest/api/3/issue/OPS-1/transitions", {"transition": {"id": "31"}})),
    ],
)
def test_finishing_an_item_in_morgue_closes_its_issue_once(
    kind, project, expected, queued, django_capture_on_commit_callbacks
):
    with fake_tracker(kind) as tracker:
        item = _item_for(tracker, kind, project)
        issue = _create(item, django_capture_on_commit_callbacks)
        tracker.requests.clear()
        with django_capture_on_commit_callbacks(execute=True):
            remediation_services.change_status(item=item, status=RemediationStatus.DONE)
        assert queued[-1] == ("incidents.tasks.trackers.push_tracker_state", issue.pk)
        push_tracker_state(issue.pk)
        push_tracker_state(issue.pk)  # redelivered: already closed
        method, path, body = expected
        changes = [call for call in tracker.requests if call.method != "GET"]
        assert [(call.method, call.path) for call in changes] == [(method, path)]
        assert json.loads(changes[0].body) == body
        issue.refresh_from_db()
        assert issue.remote_state == "closed"
        # Won't do is closed too: nothing more to send.
        with django_capture_on_commit_callbacks(execute=True):
            remediation_services.change_status(item=item, status=RemediationStatus.WONT_DO, reason="Replaced")
        assert queued[-1] == ("incidents.tasks.trackers.push_tracker_state", issue.pk)
        # Reopened in Morgue: reopened there.
        with django_capture_on_commit_callbacks(execute=True):
            remediation_services.change_status(item=item, status=RemediationStatus.OPEN)
        push_tracker_state(issue.pk)
        issue.refresh_from_db()
        assert issue.remote_state == "open"
        if kind == "github":
            assert json.loads(tracker.requests[-1].body) == {"state": "open"}


def test_a_failed_close_puts_the_state_back_and_is_retried(django_capture_on_commit_callbacks):
    with fake_tracker("github") as github:
        item = _item_for(github, "github", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            remediation_services.change_status(item=item, status=RemediationStatus.DONE)
        github.outage = (502, {"message": "Bad gateway"})
        with pytest.raises(TrackerUnavailable):
            push_tracker_state(issue.pk)
        issue.refresh_from_db()
        assert issue.remote_state == "open"
        github.outage = None
        push_tracker_state(issue.pk)
    assert github.issues[0]["state"] == "closed"


def test_the_sweep_requeues_an_issue_whose_task_was_lost(queued, django_capture_on_commit_callbacks):
    item = RemediationItemFactory(team=TeamFactory())
    services.set_team_tracker(team=item.team, kind="github", project="acme/api")
    with django_capture_on_commit_callbacks(execute=False):
        issue = services.request_issue(item=item)
    assert requeue_lost_tracker_issues() == 0  # just asked: its task is on its way
    TrackerIssue.objects.filter(pk=issue.pk).update(requested_at=timezone.now() - dt.timedelta(minutes=10))
    assert requeue_lost_tracker_issues() == 1
    assert queued == [("incidents.tasks.trackers.create_tracker_issue", issue.pk)]


def test_asking_for_an_issue_is_in_the_audit_trail(django_capture_on_commit_callbacks):
    with fake_tracker("github") as github:
        item = _item_for(github, "github", "acme/api")
        _create(item, django_capture_on_commit_callbacks)
    entries = AuditEntry.objects.filter(kind="incidents.remediationitem", object_id=str(item.pk))
    changes = [entry.changes for entry in entries]
    assert {"tracker issue": [None, "GitHub acme/api"]} in changes
    assert {"ticket_url": ["", "https://github.example/acme/api/issues/1"]} in changes


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_task_at_once_make_one_issue(queued):
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        # SQLite's shared in-memory test database does not wait on locks.
        pytest.skip("concurrent workers need PostgreSQL")
    with fake_tracker("github") as github:
        github.create_delays = [0.5]  # both are running while the first call is out
        item = _item_for(github, "github", "acme/api")
        issue = services.request_issue(item=item)
        start = threading.Barrier(2)
        results: list[object] = []

        def worker() -> None:
            start.wait()
            try:
                results.append(create_tracker_issue(issue.pk))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert len(github.calls("POST")) == 1
        assert len(github.issues) == 1
    assert sorted(map(str, results)) == ["linked", "pending"]  # the second found it claimed
    issue.refresh_from_db()
    assert issue.status == TrackerIssueStatus.LINKED and issue.attempts == 1


def test_an_address_that_is_no_longer_public_when_called_is_refused_without_saying_what_it_resolved_to(
    credentials, django_capture_on_commit_callbacks
):
    with fake_tracker("github") as github:
        item = _item_for(github, "github", "acme/api")
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item)
        # The name resolves elsewhere by the time the worker calls.
        credentials.MORGUE_OUTBOUND_ALLOW_LOOPBACK = False
        create_tracker_issue(issue.pk)
        issue.refresh_from_db()
    assert github.requests == []
    assert issue.status == TrackerIssueStatus.FAILED
    assert issue.last_error == "GitHub is not called at that address: it is not a public address."


@pytest.mark.parametrize(
    ("kind", "project"), [("github", "acme/api"), ("gitlab", "acme/api"), ("jira", "OPS")]
)
def test_a_lost_webhook_is_made_up_for_by_reading_the_issue_again(
    kind, project, django_capture_on_commit_callbacks
):
    with fake_tracker(kind) as tracker:
        item = _item_for(tracker, kind, project)
        issue = _create(item, django_capture_on_commit_callbacks)
        assert refresh_tracker_issue(issue.pk) == "Unchanged."
        # Closed there; the webhook never arrived.
        if kind in ("github", "gitlab"):
            tracker.issues[0]["state"] = "closed"
        else:
            tracker.issues[0]["fields"]["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
        tracker.requests.clear()
        answer = refresh_tracker_issue(issue.pk)
        assert [call.method for call in tracker.requests] == ["GET"]
    assert answer.startswith(f"Item {item.pk} is now done")
    item.refresh_from_db()
    assert item.status == RemediationStatus.DONE
    issue.refresh_from_db()
    assert issue.remote_state == "closed" and issue.last_error == ""


def test_reading_an_issue_while_morgue_is_closing_it_changes_nothing(django_capture_on_commit_callbacks):
    with fake_tracker("github") as github:
        item = _item_for(github, "github", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=False):
            remediation_services.change_status(item=item, status=RemediationStatus.DONE)
        # The close has not reached GitHub yet: its task is queued, then its call is out.
        assert refresh_tracker_issue(issue.pk) == "Skipped: Morgue is still changing the issue."
        TrackerIssue.objects.filter(pk=issue.pk).update(
            remote_state="closed", claimed_until=timezone.now() + dt.timedelta(minutes=1)
        )
        assert refresh_tracker_issue(issue.pk) == "Skipped: Morgue is still changing the issue."
        push_tracker_state(issue.pk)  # (a redelivery: the state is claimed, nothing is sent)
        TrackerIssue.objects.filter(pk=issue.pk).update(claimed_until=None)
        github.issues[0]["state"] = "closed"
        assert refresh_tracker_issue(issue.pk) == "Unchanged."
    item.refresh_from_db()
    assert item.status == RemediationStatus.DONE


def test_a_tracker_that_is_down_leaves_the_status_unknown_since_it_was_last_read(
    django_capture_on_commit_callbacks,
):
    with fake_tracker("gitlab") as gitlab:
        item = _item_for(gitlab, "gitlab", "acme/api")
        issue = _create(item, django_capture_on_commit_callbacks)
        gitlab.outage = (503, {"message": "503 Service Unavailable"})
        refresh_tracker_issue(issue.pk)
    issue.refresh_from_db()
    assert issue.last_error == "GitLab answered 503; trying again later."
    assert issue.remote_state == "open"


def test_the_refresh_sweep_reads_again_only_issues_not_heard_of_lately_whose_items_may_change(queued):
    now = timezone.now()

    def linked(status: str, synced_minutes_ago: int, completed_days_ago: int | None = None) -> TrackerIssue:
        completed = now - dt.timedelta(days=completed_days_ago) if completed_days_ago is not None else None
        reason = "Replaced" if status == RemediationStatus.WONT_DO else ""
        item = RemediationItemFactory(status=status, completed_at=completed, wont_do_reason=reason)
        return TrackerIssue.objects.create(
            item=item,
            kind="github",
            base_url="https://api.github.com",
            project="acme/api",
            marker=f"morgue-item-{item.pk}",
            status=TrackerIssueStatus.LINKED,
            remote_id=str(item.pk),
            key=f"acme/api#{item.pk}",
            number=str(item.pk),
            remote_state="open",
            synced_at=now - dt.timedelta(minutes=synced_minutes_ago),
        )

    stale_open = linked(RemediationStatus.OPEN, 20)
    linked(RemediationStatus.OPEN, 5)  # heard of lately
    stale_recently_done = linked(RemediationStatus.DONE, 60, completed_days_ago=3)
    linked(RemediationStatus.DONE, 60, completed_days_ago=90)  # long finished
    assert requeue_refreshes_count() == 2
    assert sorted(queued) == sorted(
        [
            ("incidents.tasks.trackers.refresh_tracker_issue", stale_open.pk),
            ("incidents.tasks.trackers.refresh_tracker_issue", stale_recently_done.pk),
        ]
    )


def requeue_refreshes_count() -> int:
    from incidents.tasks.trackers import refresh_tracker_issues

    return refresh_tracker_issues()


def _existing_issue(fake, kind: str, project: str) -> None:
    """An issue made in the tracker by someone else, before Morgue hears of it."""
    connection = trackers.Connection(
        kind=kind, base_url=fake.url, project=project, token=TOKEN, user=JIRA_USER, allow_loopback=True
    )
    trackers.create_issue(connection, trackers.NewIssue(title="Made by hand", body="", marker="by-hand"))
    fake.requests.clear()


@pytest.mark.parametrize(
    ("kind", "project", "page", "read"),
    [
        ("github", "acme/api", "https://github.com/acme/api/issues/1", "/repos/acme/api/issues/1"),
        ("gitlab", "acme/api", "{url}/acme/api/-/issues/1", "/api/v4/projects/acme%2Fapi/issues/1"),
        ("jira-server", "OPS", "{url}/browse/OPS-1", "/rest/api/2/issue/OPS-1?fields=status,updated"),
    ],
)
def test_an_existing_issue_is_followed_from_its_address_read_once_and_never_created(
    credentials, kind, project, page, read, django_capture_on_commit_callbacks
):
    with fake_tracker(kind) as tracker:
        credentials.GITHUB_API_URL = tracker.url
        _existing_issue(tracker, kind, project)
        item = RemediationItemFactory(team=None)
        page = page.format(url=tracker.url)
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.link_issue(item=item, url=page, requested_by=item.owner)
        create_tracker_issue(issue.pk)
        create_tracker_issue(issue.pk)
        assert [(call.method, call.path) for call in tracker.requests] == [("GET", read)]
    issue.refresh_from_db()
    assert issue.status == TrackerIssueStatus.LINKED and issue.kind == kind
    assert issue.remote_id == {"github": "1001", "gitlab": "5001", "jira-server": "10001"}[kind]
    item.refresh_from_db()
    assert item.ticket_url == page


def test_an_address_that_names_no_issue_is_refused_with_a_sentence():
    item = RemediationItemFactory()
    with pytest.raises(ValidationError, match="not an issue's page"):
        services.link_issue(item=item, url="https://github.com/acme/api/pulls/3")
    assert not TrackerIssue.objects.exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://github.com/acme/api/issues/12",
            ("github", "https://github.com", "acme/api", "12", "acme/api#12"),
        ),
        (
            "https://gitlab.example.com/payments/backend/api/-/issues/5",
            ("gitlab", "https://gitlab.example.com", "payments/backend/api", "5", "payments/backend/api#5"),
        ),
        (
            "https://acme.atlassian.net/browse/OPS-12",
            ("jira", "https://acme.atlassian.net", "OPS", "OPS-12", "OPS-12"),
        ),
        (
            "https://intranet.example.com/jira/browse/PAY2-7",
            ("jira-server", "https://intranet.example.com/jira", "PAY2", "PAY2-7", "PAY2-7"),
        ),
    ],
)
def test_issue_pages_are_read_for_their_tracker_project_and_number(url, expected):
    address = trackers.parse_issue_url(url)
    assert (address.kind, address.site, address.project, address.number, address.key) == expected


def test_an_issue_another_item_follows_is_not_linked_twice(credentials, django_capture_on_commit_callbacks):
    with fake_tracker("github") as github:
        credentials.GITHUB_API_URL = github.url
        _existing_issue(github, "github", "acme/api")
        first, second = RemediationItemFactory(), RemediationItemFactory()
        issues = []
        for item in (first, second):
            with django_capture_on_commit_callbacks(execute=False):
                issue = services.link_issue(item=item, url="https://github.com/acme/api/issues/1")
            create_tracker_issue(issue.pk)
            issue.refresh_from_db()
            issues.append(issue)
    assert issues[0].status == TrackerIssueStatus.LINKED
    assert issues[1].status == TrackerIssueStatus.FAILED
    assert issues[1].last_error == f"acme/api#1 already follows remediation item {first.pk}."


def test_a_closed_issue_linked_to_an_open_item_is_sent_the_items_state(
    credentials, queued, django_capture_on_commit_callbacks
):
    with fake_tracker("gitlab") as gitlab:
        _existing_issue(gitlab, "gitlab", "acme/api")
        gitlab.issues[0]["state"] = "closed"
        item = RemediationItemFactory()
        with django_capture_on_commit_callbacks(execute=True):
            issue = services.link_issue(item=item, url=f"{gitlab.url}/acme/api/-/issues/1")
        with django_capture_on_commit_callbacks(execute=True):
            create_tracker_issue(issue.pk)
        assert queued[-1] == ("incidents.tasks.trackers.push_tracker_state", issue.pk)
        push_tracker_state(issue.pk)
        assert gitlab.issues[0]["state"] == "opened"


def test_the_beat_schedule_sweeps_lost_creations_and_reads_linked_issues_again():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    sweeps = {
        "incidents.tasks.trackers.requeue_lost_tracker_issues",
        "incidents.tasks.trackers.refresh_tracker_issues",
    }
    assert sweeps <= scheduled
    # Services enqueue these by name: each name is a registered task.
    named = sweeps | {
        "incidents.tasks.trackers.create_tracker_issue",
        "incidents.tasks.trackers.push_tracker_state",
        "incidents.tasks.trackers.refresh_tracker_issue",
    }
    assert named <= set(app.tasks)


def test_celerys_own_retry_of_a_timed_out_create_makes_one_issue(
    credentials, django_capture_on_commit_callbacks
):
    credentials.TRACKER_TIMEOUT_SECONDS = 0.5
    with fake_tracker("gitlab") as gitlab:
        gitlab.create_delays = [1.5, 0.0]
        item = _item_for(gitlab, "gitlab", "acme/api")
        with django_capture_on_commit_callbacks(execute=False):
            issue = services.request_issue(item=item)
        # Applied as a worker would run it: the timeout raises self.retry, which runs it again.
        result = create_tracker_issue.apply(args=(issue.pk,))
        assert result.get() == "linked"
        assert [call.method for call in gitlab.requests] == ["POST", "GET"]
        assert len(gitlab.issues) == 1
