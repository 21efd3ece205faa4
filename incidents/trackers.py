"""Talking to issue trackers: GitHub, GitLab and Jira behind one small interface.

No Django models here: callers hand over a `Connection` (the team's tracker and
the credentials from the environment) and get `RemoteIssue`s back. Every call
goes through morgue.outbound (the SSRF rule) with a timeout. What each vendor
expects is cited where it is used:

- GitHub REST: https://docs.github.com/en/rest/issues/issues (create, list by
  label, update), webhooks https://docs.github.com/en/webhooks (the
  `issues` event, `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body>`).
- GitLab REST v4: https://docs.gitlab.com/api/issues/ (create, list by label,
  edit with `state_event`), webhooks https://docs.gitlab.com/user/project/integrations/webhook_events/
  (`X-Gitlab-Token` carries the secret token as set, not a signature).
- Jira Cloud REST v3 / Server v2: `POST /rest/api/{3,2}/issue`, JQL search,
  transitions and comments; admin webhooks with a secret are signed like
  GitHub's in `X-Hub-Signature: sha256=<hex>`
  (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks).
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from morgue import outbound

GITHUB = "github"
GITLAB = "gitlab"
JIRA = "jira"
JIRA_SERVER = "jira-server"
KINDS = (GITHUB, GITLAB, JIRA, JIRA_SERVER)
NAMES = {GITHUB: "GitHub", GITLAB: "GitLab", JIRA: "Jira", JIRA_SERVER: "Jira"}

OPEN = "open"
CLOSED = "closed"


class TrackerError(Exception):
    """A tracker call that failed; `transient` means worth retrying (timeouts, 5xx, 429)."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass(frozen=True)
class Connection:
    kind: str
    base_url: str
    project: str
    token: str = ""
    user: str = ""  # Jira's account e-mail (basic auth with the API token)
    issue_type: str = "Task"
    timeout: float = 10.0
    allow_loopback: bool = False


@dataclass(frozen=True)
class RemoteIssue:
    remote_id: str
    key: str
    url: str
    number: str
    state: str


@dataclass(frozen=True)
class NewIssue:
    title: str
    body: str
    marker: str
    labels: tuple[str, ...] = field(default=())


# --- Calls ------------------------------------------------------------------------------------------


def _headers(connection: Connection) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "Morgue", "Content-Type": "application/json"}
    if connection.kind == GITHUB:
        # https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
        headers["Accept"] = "application/vnd.github+json"
        headers["X-GitHub-Api-Version"] = "2022-11-28"
        headers["Authorization"] = f"Bearer {connection.token}"
    elif connection.kind == GITLAB:
        headers["PRIVATE-TOKEN"] = connection.token
    else:
        # Jira Cloud: basic auth with the account's e-mail and an API token.
        pair = f"{connection.user}:{connection.token}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return headers


def _call(connection: Connection, method: str, path: str, payload: Any = None) -> Any:
    """One API call; the decoded JSON answer (None when empty), or TrackerError saying why not."""
    name = NAMES[connection.kind]
    body = None if payload is None else json.dumps(payload).encode()
    try:
        status, data = outbound.request(
            method,
            connection.base_url.rstrip("/") + path,
            headers=_headers(connection),
            timeout=connection.timeout,
            body=body,
            allow_loopback=connection.allow_loopback,
        )
    except outbound.PrivateAddress as error:
        # The resolved address stays in the caller's log, not in what people see.
        raise TrackerError(f"{name} is not called at that address: it is not a public address.") from error
    except outbound.AddressRefused as error:
        raise TrackerError(f"{name} is not called at that address: {error.reason}") from error
    except outbound.OutboundError as error:
        raise TrackerError(f"{name} could not be reached ({error.reason}).", transient=True) from error
    if status == 429 or status >= 500:
        raise TrackerError(f"{name} answered {status}; trying again later.", transient=True)
    if status in (401, 403):
        raise TrackerError(f"{name} refused Morgue's credentials (HTTP {status}); check the token.")
    if status == 404:
        raise TrackerError(f"{name} has no project “{connection.project}” that the token can see (HTTP 404).")
    if status >= 300:
        raise TrackerError(f"{name} refused the request (HTTP {status}): {_message(data)}")
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError as error:
        raise TrackerError(f"{name} answered something that is not JSON.", transient=True) from error


def _message(data: bytes) -> str:
    try:
        answer = json.loads(data)
    except ValueError:
        return data[:200].decode(errors="replace")
    if isinstance(answer, dict):
        for name in ("message", "error", "errorMessages", "errors"):
            if answer.get(name):
                return str(answer[name])[:300]
    return str(answer)[:300]


def _github_repo(connection: Connection) -> str:
    owner, _, repo = connection.project.partition("/")
    return f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"


def _gitlab_project(connection: Connection) -> str:
    # A path (group/project) is URL-encoded into one segment, as the API asks.
    return f"/api/v4/projects/{quote(connection.project, safe='')}"


def _jira_api(connection: Connection) -> str:
    return "/rest/api/2" if connection.kind == JIRA_SERVER else "/rest/api/3"


def _github_issue(data: dict[str, Any]) -> RemoteIssue:
    repo = (data.get("repository_url") or "").rsplit("/repos/", 1)[-1]
    return RemoteIssue(
        remote_id=str(data["id"]),
        key=f"{repo}#{data['number']}" if repo else f"#{data['number']}",
        url=str(data.get("html_url") or ""),
        number=str(data["number"]),
        state=CLOSED if data.get("state") == "closed" else OPEN,
    )


def _gitlab_issue(data: dict[str, Any]) -> RemoteIssue:
    references = data.get("references") or {}
    return RemoteIssue(
        remote_id=str(data["id"]),
        key=str(references.get("full") or f"#{data['iid']}"),
        url=str(data.get("web_url") or ""),
        number=str(data["iid"]),
        state=CLOSED if data.get("state") == "closed" else OPEN,
    )


def _jira_issue(connection: Connection, data: dict[str, Any], *, state: str = OPEN) -> RemoteIssue:
    key = str(data["key"])
    fields = data.get("fields") or {}
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    if category:
        state = CLOSED if category == "done" else OPEN
    return RemoteIssue(
        remote_id=str(data["id"]),
        key=key,
        url=f"{connection.base_url.rstrip('/')}/browse/{key}",
        number=key,
        state=state,
    )


def _adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (Jira Cloud v3 wants rich text)."""
    paragraphs = [part for part in text.split("\n\n") if part.strip()] or [""]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": part}] if part else []}
            for part in paragraphs
        ],
    }


def _jira_text(connection: Connection, text: str) -> Any:
    return _adf(text) if connection.kind == JIRA else text


def create_issue(connection: Connection, issue: NewIssue) -> RemoteIssue:
    """Create the issue, carrying `issue.marker` as a label; TrackerError when refused or unreachable."""
    labels = [issue.marker, *issue.labels]
    if connection.kind == GITHUB:
        data = _call(
            connection,
            "POST",
            f"{_github_repo(connection)}/issues",
            {"title": issue.title, "body": issue.body, "labels": labels},
        )
        return _github_issue(data)
    if connection.kind == GITLAB:
        data = _call(
            connection,
            "POST",
            f"{_gitlab_project(connection)}/issues",
            {"title": issue.title, "description": issue.body, "labels": ",".join(labels)},
        )
        return _gitlab_issue(data)
    fields = {
        "project": {"key": connection.project},
        "summary": issue.title[:255],
        "issuetype": {"name": connection.issue_type or "Task"},
        "description": _jira_text(connection, issue.body),
        "labels": labels,
    }
    data = _call(connection, "POST", f"{_jira_api(connection)}/issue", {"fields": fields})
    return _jira_issue(connection, data)


def find_issue(connection: Connection, marker: str) -> RemoteIssue | None:
    """The issue an earlier attempt made, found by its marker label; None when there is none."""
    if connection.kind == GITHUB:
        query = urlencode({"labels": marker, "state": "all", "per_page": "5"})
        found = _call(connection, "GET", f"{_github_repo(connection)}/issues?{query}") or []
        issues = [entry for entry in found if "pull_request" not in entry]
        return _github_issue(issues[0]) if issues else None
    if connection.kind == GITLAB:
        query = urlencode({"labels": marker, "state": "all", "per_page": "5"})
        found = _call(connection, "GET", f"{_gitlab_project(connection)}/issues?{query}") or []
        return _gitlab_issue(found[0]) if found else None
    jql = f'project = "{connection.project}" AND labels = "{marker}"'
    query = urlencode({"jql": jql, "fields": "status", "maxResults": "5"})
    # Cloud's search moved to /search/jql (the old /search is withdrawn there); Server keeps /search.
    path = "/search/jql" if connection.kind == JIRA else "/search"
    found = _call(connection, "GET", f"{_jira_api(connection)}{path}?{query}") or {}
    issues = found.get("issues") or []
    return _jira_issue(connection, issues[0]) if issues else None


def set_state(connection: Connection, remote: RemoteIssue, *, state: str, comment: str) -> None:
    """Close or reopen the issue; Jira moves it through a transition to a done (or to-do) status,
    and gets a comment instead when its workflow offers none."""
    if connection.kind == GITHUB:
        payload: dict[str, Any] = {"state": state}
        if state == CLOSED:
            payload["state_reason"] = "completed"
        _call(connection, "PATCH", f"{_github_repo(connection)}/issues/{quote(remote.number)}", payload)
        return
    if connection.kind == GITLAB:
        event = "close" if state == CLOSED else "reopen"
        _call(
            connection,
            "PUT",
            f"{_gitlab_project(connection)}/issues/{quote(remote.number)}",
            {"state_event": event},
        )
        return
    issue_path = f"{_jira_api(connection)}/issue/{quote(remote.number)}"
    offered = (_call(connection, "GET", f"{issue_path}/transitions") or {}).get("transitions") or []
    wanted = ("done",) if state == CLOSED else ("new", "indeterminate")
    for transition in offered:
        category = ((transition.get("to") or {}).get("statusCategory") or {}).get("key")
        if category in wanted:
            _call(
                connection, "POST", f"{issue_path}/transitions", {"transition": {"id": str(transition["id"])}}
            )
            return
    _call(connection, "POST", f"{issue_path}/comment", {"body": _jira_text(connection, comment)})


def fetch_state(connection: Connection, remote: RemoteIssue) -> "IssueEvent":
    """The issue's state now, read from the tracker (for when a webhook was lost)."""
    if connection.kind == GITHUB:
        data = _call(connection, "GET", f"{_github_repo(connection)}/issues/{quote(remote.number)}")
        return IssueEvent(
            remote_id=str(data["id"]),
            state=CLOSED if data.get("state") == "closed" else OPEN,
            key=remote.key,
            url=remote.url,
            updated_at=_instant(data.get("updated_at")),
            not_planned=data.get("state_reason") == "not_planned",
        )
    if connection.kind == GITLAB:
        data = _call(connection, "GET", f"{_gitlab_project(connection)}/issues/{quote(remote.number)}")
        return IssueEvent(
            remote_id=str(data["id"]),
            state=CLOSED if data.get("state") == "closed" else OPEN,
            key=remote.key,
            url=remote.url,
            updated_at=_instant(data.get("updated_at")),
        )
    data = _call(
        connection, "GET", f"{_jira_api(connection)}/issue/{quote(remote.number)}?fields=status,updated"
    )
    fields = data.get("fields") or {}
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    return IssueEvent(
        remote_id=str(data["id"]),
        state=CLOSED if category == "done" else OPEN,
        key=remote.key,
        url=remote.url,
        updated_at=_instant(fields.get("updated")),
    )


@dataclass(frozen=True)
class IssueAddress:
    """An existing issue named by its page's address: which tracker, where, which project, which issue."""

    kind: str
    site: str  # scheme and host of the page (GitLab's and Jira's API live there too)
    project: str
    number: str
    key: str


GITHUB_PAGE = re.compile(r"^/(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/issues/(?P<number>\d+)/?$")
GITLAB_PAGE = re.compile(r"^/(?P<project>[\w.-]+(?:/[\w.-]+)+)/-/(?:issues|work_items)/(?P<number>\d+)/?$")
JIRA_PAGE = re.compile(r"^(?:/[\w.-]+)*/browse/(?P<key>[A-Z][A-Z0-9_]+-\d+)/?$")


def parse_issue_url(url: str) -> IssueAddress:
    """Which issue an issue page's address names; ValueError with a sentence when it names none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Give the issue's address, starting with https://.")
    site = f"{parts.scheme}://{parts.netloc}"
    path = parts.path
    match = GITLAB_PAGE.match(path)
    if match:
        project = match["project"]
        return IssueAddress(GITLAB, site, project, match["number"], f"{project}#{match['number']}")
    match = GITHUB_PAGE.match(path)
    if match:
        project = f"{match['owner']}/{match['repo']}"
        return IssueAddress(GITHUB, site, project, match["number"], f"{project}#{match['number']}")
    match = JIRA_PAGE.match(path)
    if match:
        key = match["key"]
        kind = JIRA if (parts.hostname or "").endswith(".atlassian.net") else JIRA_SERVER
        return IssueAddress(kind, site + path.split("/browse/")[0], key.rsplit("-", 1)[0], key, key)
    raise ValueError(
        "That address is not an issue's page: use …/owner/repo/issues/12 (GitHub), "
        "…/group/project/-/issues/5 (GitLab) or …/browse/OPS-12 (Jira)."
    )


# --- Webhooks ---------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """A delivery that is not from the tracker (401) or cannot be read (400); the message says which."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class IssueEvent:
    """What a webhook says about one issue: its id, whether it is now open or closed, and when."""

    remote_id: str
    state: str
    key: str
    url: str
    updated_at: dt.datetime | None
    # GitHub's "closed as not planned".
    not_planned: bool = False


def _hmac_matches(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def verify(kind: str, *, secret: str, body: bytes, headers: dict[str, str]) -> None:
    """Refuse a delivery without the tracker's proof: GitHub's and Jira's HMAC, GitLab's token."""
    name = NAMES[kind]
    if not secret:
        raise WebhookRefused(
            f"{name} webhooks are not accepted: no webhook secret is configured.", status=403
        )
    if kind == GITLAB:
        token = headers.get("x-gitlab-token", "")
        if not token:
            raise WebhookRefused("The X-Gitlab-Token header is missing.", status=401)
        if not hmac.compare_digest(token.encode(), secret.encode()):
            raise WebhookRefused("The X-Gitlab-Token header does not match the webhook secret.", status=401)
        return
    header_name = "X-Hub-Signature-256" if kind == GITHUB else "X-Hub-Signature"
    signature = headers.get(header_name.lower(), "")
    if not signature:
        raise WebhookRefused(f"The {header_name} header is missing.", status=401)
    if not _hmac_matches(secret, body, signature):
        raise WebhookRefused(
            f"The {header_name} header does not match the body signed with the webhook secret.", status=401
        )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise WebhookRefused("The body is not valid JSON.", status=400) from error
    if not isinstance(payload, dict):
        raise WebhookRefused("The body is not a JSON object.", status=400)
    return payload


def _instant(value: Any) -> dt.datetime | None:
    """A webhook's time: ISO 8601 (GitHub), "2013-12-03 17:15:43 UTC" (GitLab), epoch ms (Jira)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"  # Jira's +0000
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WebhookRefused(f"The body has no {what} object.", status=400)
    return value


def parse_event(kind: str, *, body: bytes, headers: dict[str, str]) -> IssueEvent | None:
    """The issue a verified delivery is about, or None for a delivery about something else (a ping)."""
    payload = _json_object(body)
    if kind == GITHUB:
        if headers.get("x-github-event", "issues") != "issues":
            return None
        # Only a change of state counts: an edit or a label says nothing about the work.
        if payload.get("action") not in ("closed", "reopened"):
            return None
        issue = _dict(payload.get("issue"), "issue")
        if "id" not in issue:
            raise WebhookRefused("The issue in the body has no id.", status=400)
        repository = (payload.get("repository") or {}).get("full_name") or ""
        return IssueEvent(
            remote_id=str(issue["id"]),
            state=CLOSED if issue.get("state") == "closed" else OPEN,
            key=f"{repository}#{issue.get('number')}",
            url=str(issue.get("html_url") or ""),
            updated_at=_instant(issue.get("updated_at")),
            not_planned=issue.get("state_reason") == "not_planned",
        )
    if kind == GITLAB:
        if payload.get("object_kind") != "issue":
            return None
        attributes = _dict(payload.get("object_attributes"), "object_attributes")
        if attributes.get("action") not in ("close", "reopen"):
            return None
        if "id" not in attributes:
            raise WebhookRefused("The object_attributes in the body have no id.", status=400)
        return IssueEvent(
            remote_id=str(attributes["id"]),
            state=CLOSED if attributes.get("state") == "closed" else OPEN,
            key=str(attributes.get("iid") or ""),
            url=str(attributes.get("url") or ""),
            updated_at=_instant(attributes.get("updated_at")),
        )
    if payload.get("webhookEvent") != "jira:issue_updated":
        return None
    changes = (
        (payload.get("changelog") or {}).get("items") if isinstance(payload.get("changelog"), dict) else None
    )
    if not isinstance(changes, list) or not any(
        isinstance(change, dict) and "status" in (change.get("field"), change.get("fieldId"))
        for change in changes
    ):
        return None
    issue = _dict(payload.get("issue"), "issue")
    if "id" not in issue:
        raise WebhookRefused("The issue in the body has no id.", status=400)
    fields = issue.get("fields") or {}
    category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
    return IssueEvent(
        remote_id=str(issue["id"]),
        state=CLOSED if category == "done" else OPEN,
        key=str(issue.get("key") or ""),
        url="",
        updated_at=_instant(payload.get("timestamp")),
    )
