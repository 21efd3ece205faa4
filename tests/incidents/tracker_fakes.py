"""Local stand-ins for GitHub, GitLab and Jira's issue APIs: a small stateful HTTP server on loopback.

Each answers as the vendor documents it, checks the vendor's auth header (401
with the vendor's body otherwise) and records every request:

- GitHub REST (https://docs.github.com/en/rest/issues/issues): `POST /repos/{owner}/{repo}/issues`
  → 201 with the issue (`id`, `number`, `html_url`, `repository_url`, `state`, `labels`);
  `GET …/issues?labels=&state=all`; `PATCH …/issues/{number}`. `Authorization: Bearer <token>`.
- GitLab REST v4 (https://docs.gitlab.com/api/issues/): `POST /api/v4/projects/:id/issues`
  (`:id` a number or a URL-encoded path) → 201 (`id`, `iid`, `state: "opened"`, `web_url`,
  `references.full`); `GET …/issues?labels=`; `PUT …/issues/:iid` with `state_event`. `PRIVATE-TOKEN`.
- Jira REST v3 (Cloud) and v2 (Server) (https://developer.atlassian.com/cloud/jira/platform/rest/v3/):
  `POST /rest/api/3/issue` → 201 `{id, key, self}` (v3 wants the description as an Atlassian
  document); `GET /rest/api/3/search/jql` (v2: `/search`); transitions and comments. Basic auth.
"""

import base64
import contextlib
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.oncall.fakes import Received

TOKEN = "tracker-test-token"
JIRA_USER = "ops@example.com"


@dataclass
class FakeTracker:
    kind: str
    url: str = ""
    projects: tuple[str, ...] = ("acme/api",)
    requests: list[Received] = field(default_factory=list)
    issues: list[dict] = field(default_factory=list)
    # Seconds a create waits, after storing the issue, before answering: a slow tracker whose
    # caller timed out never learns the issue was made. The last one repeats.
    create_delays: list[float] = field(default_factory=lambda: [0.0])
    # Answer every request with this (status, body) instead, e.g. a 503.
    outage: tuple[int, dict] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, method: str) -> list[Received]:
        return [request for request in self.requests if request.method == method]


def _github_issue(fake: FakeTracker, repo: str, number: int, data: dict) -> dict:
    api = fake.url
    return {
        "id": 1000 + number,
        "node_id": f"I_{number}",
        "url": f"{api}/repos/{repo}/issues/{number}",
        "repository_url": f"{api}/repos/{repo}",
        "html_url": f"https://github.example/{repo}/issues/{number}",
        "number": number,
        "state": "open",
        "state_reason": None,
        "title": data["title"],
        "body": data.get("body"),
        "labels": [{"id": index, "name": name} for index, name in enumerate(data.get("labels") or [])],
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
    }


def _gitlab_issue(fake: FakeTracker, project: str, iid: int, data: dict) -> dict:
    labels = [name for name in (data.get("labels") or "").split(",") if name]
    return {
        "id": 5000 + iid,
        "iid": iid,
        "project_id": 42,
        "title": data["title"],
        "description": data.get("description"),
        "state": "opened",
        "labels": labels,
        "web_url": f"https://gitlab.example/{project}/-/issues/{iid}",
        "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{project}#{iid}"},
        "created_at": "2026-03-01T10:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.000Z",
    }


def _authorised(fake: FakeTracker, headers: dict[str, str]) -> bool:
    if fake.kind == "github":
        return headers.get("Authorization") == f"Bearer {TOKEN}"
    if fake.kind == "gitlab":
        return headers.get("PRIVATE-TOKEN") == TOKEN
    expected = base64.b64encode(f"{JIRA_USER}:{TOKEN}".encode()).decode()
    return headers.get("Authorization") == f"Basic {expected}"


def _unauthorised(fake: FakeTracker) -> tuple[int, Any]:
    if fake.kind == "github":
        return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    if fake.kind == "gitlab":
        return 401, {"message": "401 Unauthorized"}
    return 401, {"errorMessages": ["You are not authenticated."], "errors": {}}


def _route(fake: FakeTracker, method: str, path: str, data: Any) -> tuple[int, Any, float]:
    """(status, JSON body, seconds to wait before answering) for one request."""
    parts = urlsplit(path)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    if fake.kind == "github":
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues(?:/(\d+))?", parts.path)
        if not match or f"{unquote(match[1])}/{unquote(match[2])}" not in fake.projects:
            return 404, {"message": "Not Found"}, 0
        repo = f"{unquote(match[1])}/{unquote(match[2])}"
        mine = [issue for issue in fake.issues if issue["repository_url"].endswith(f"/repos/{repo}")]
        if method == "POST" and not match[3]:
            if not data.get("title"):
                return (
                    422,
                    {"message": "Validation Failed", "errors": [{"field": "title", "code": "missing"}]},
                    0,
                )
            issue = _github_issue(fake, repo, len(mine) + 1, data)
            fake.issues.append(issue)
            return 201, issue, _delay(fake)
        if method == "GET" and not match[3]:
            wanted = set(filter(None, query.get("labels", "").split(",")))
            found = [issue for issue in mine if wanted <= {label["name"] for label in issue["labels"]}]
            return 200, found, 0
        if method == "GET" and match[3]:
            issue = next((issue for issue in mine if issue["number"] == int(match[3])), None)
            return (200, issue, 0) if issue else (404, {"message": "Not Found"}, 0)
        if method == "PATCH" and match[3]:
            issue = next((issue for issue in mine if issue["number"] == int(match[3])), None)
            if issue is None:
                return 404, {"message": "Not Found"}, 0
            issue["state"] = data.get("state", issue["state"])
            issue["state_reason"] = data.get("state_reason")
            return 200, issue, 0
        return 404, {"message": "Not Found"}, 0
    if fake.kind == "gitlab":
        match = re.fullmatch(r"/api/v4/projects/([^/]+)/issues(?:/(\d+))?", parts.path)
        project = unquote(match[1]) if match else ""
        if not match or project not in fake.projects:
            return 404, {"message": "404 Project Not Found"}, 0
        mine = [issue for issue in fake.issues if issue["references"]["full"].startswith(f"{project}#")]
        if method == "POST" and not match[2]:
            if not data.get("title"):
                return 400, {"message": {"title": ["can't be blank"]}}, 0
            issue = _gitlab_issue(fake, project, len(mine) + 1, data)
            fake.issues.append(issue)
            return 201, issue, _delay(fake)
        if method == "GET" and not match[2]:
            wanted = set(filter(None, query.get("labels", "").split(",")))
            return 200, [issue for issue in mine if wanted <= set(issue["labels"])], 0
        if method == "GET" and match[2]:
            issue = next((issue for issue in mine if issue["iid"] == int(match[2])), None)
            return (200, issue, 0) if issue else (404, {"message": "404 Not found"}, 0)
        if method == "PUT" and match[2]:
            issue = next((issue for issue in mine if issue["iid"] == int(match[2])), None)
            if issue is None:
                return 404, {"message": "404 Not found"}, 0
            event = data.get("state_event")
            issue["state"] = {"close": "closed", "reopen": "opened"}.get(event, issue["state"])
            return 200, issue, 0
        return 404, {"message": "404 Not Found"}, 0
    version = "2" if fake.kind == "jira-server" else "3"
    api = f"/rest/api/{version}"
    if method == "POST" and parts.path == f"{api}/issue":
        fields = data.get("fields") or {}
        project = (fields.get("project") or {}).get("key")
        if project not in fake.projects:
            return 400, {"errorMessages": [], "errors": {"project": "valid project is required"}}, 0
        description = fields.get("description")
        if version == "3" and not (isinstance(description, dict) and description.get("type") == "doc"):
            problem = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            return 400, {"errorMessages": [], "errors": {"description": problem}}, 0
        if version == "2" and not isinstance(description, str):
            return (
                400,
                {"errorMessages": [], "errors": {"description": "Operation value must be a string"}},
                0,
            )
        number = len(fake.issues) + 1
        issue = {
            "id": str(10000 + number),
            "key": f"{project}-{number}",
            "self": f"{fake.url}{api}/issue/{10000 + number}",
            "fields": {**fields, "status": {"name": "To Do", "statusCategory": {"key": "new"}}},
        }
        fake.issues.append(issue)
        return 201, {"id": issue["id"], "key": issue["key"], "self": issue["self"]}, _delay(fake)
    search = f"{api}/search/jql" if version == "3" else f"{api}/search"
    if method == "GET" and parts.path == search:
        label = re.search(r'labels = "([^"]+)"', query.get("jql", ""))
        found = [issue for issue in fake.issues if label and label[1] in issue["fields"].get("labels", [])]
        shown = [
            {"id": issue["id"], "key": issue["key"], "fields": {"status": issue["fields"]["status"]}}
            for issue in found
        ]
        return 200, {"issues": shown, "isLast": True}, 0
    if method == "GET" and parts.path == f"{api}/field":
        # The fields clients look names up in (GET /rest/api/{2,3}/field).
        names = {"summary": "Summary", "description": "Description", "labels": "Labels", "status": "Status"}
        fields = [
            {"id": key, "key": key, "name": name, "custom": False, "navigable": True, "searchable": True,
             "clauseNames": [key], "schema": {"type": "string", "system": key}}
            for key, name in names.items()
        ]  # fmt: skip
        return 200, fields, 0
    single = re.fullmatch(rf"{api}/issue/([^/]+)", parts.path)
    if method == "GET" and single:
        issue = next((issue for issue in fake.issues if issue["key"] == unquote(single[1])), None)
        if issue is None:
            return (
                404,
                {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
                0,
            )
        fields = {"status": issue["fields"]["status"], "updated": "2026-03-02T10:00:00.000+0000"}
        return 200, {"id": issue["id"], "key": issue["key"], "fields": fields}, 0
    match = re.fullmatch(rf"{api}/issue/([^/]+)/(transitions|comment)", parts.path)
    if match:
        issue = next((issue for issue in fake.issues if issue["key"] == unquote(match[1])), None)
        if issue is None:
            return (
                404,
                {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
                0,
            )
        if match[2] == "comment" and method == "POST":
            issue.setdefault("comments", []).append(data.get("body"))
            return 201, {"id": str(len(issue["comments"]))}, 0
        transitions = [
            {"id": "11", "name": "To Do", "to": {"name": "To Do", "statusCategory": {"key": "new"}}},
            {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}},
        ]
        if method == "GET":
            return 200, {"transitions": transitions}, 0
        # Jira takes the id as a string or a number (the jira client sends a number).
        wanted = str((data.get("transition") or {}).get("id"))
        chosen = next((entry for entry in transitions if entry["id"] == wanted), None)
        if chosen is None:
            return 400, {"errorMessages": ["Transition id is not valid for this issue."]}, 0
        issue["fields"]["status"] = {
            "name": chosen["to"]["name"],
            "statusCategory": chosen["to"]["statusCategory"],
        }
        return 204, None, 0
    return 404, {"errorMessages": ["Not found."]}, 0


def _delay(fake: FakeTracker) -> float:
    return fake.create_delays.pop(0) if len(fake.create_delays) > 1 else fake.create_delays[0]


@contextmanager
def fake_tracker(kind: str, *, projects: tuple[str, ...] | None = None) -> Iterator[FakeTracker]:
    default = {"github": ("acme/api",), "gitlab": ("acme/api",), "jira": ("OPS",), "jira-server": ("OPS",)}
    fake = FakeTracker(kind=kind, projects=projects or default[kind])

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            received = Received(self.command, self.path, dict(self.headers.items()), body)
            with fake.lock:
                fake.requests.append(received)
                if fake.outage is not None:
                    status, answer, delay = (*fake.outage, 0.0)
                elif not _authorised(fake, received.headers):
                    status, answer = _unauthorised(fake)
                    delay = 0.0
                else:
                    try:
                        data = json.loads(body) if body else {}
                    except ValueError:
                        status, answer, delay = 400, {"message": "Problems parsing JSON"}, 0.0
                    else:
                        status, answer, delay = _route(fake, self.command, self.path, data)
            if delay:
                time.sleep(delay)
            self.send_response(status)
            if answer is None:
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = json.dumps(answer).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the caller hung up (timed out)
                self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _answer

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
