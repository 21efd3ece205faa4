"""A local fake of the Slack Web API, for the methods Morgue calls, answering as Slack documents them.

Every method is `POST /api/<method>` with the token in `Authorization: Bearer`
(a missing one is `not_authed`, a wrong one `invalid_auth`), form-encoded or
JSON arguments, and HTTP 200 with `{"ok": true, …}` or `{"ok": false, "error": "…"}`
(https://api.slack.com/web). The shapes, per method page on api.slack.com/methods
and the official SDK's types (slack_sdk.web.slack_response):
- users.info: `user.id`, `user.name`, `user.profile.{email, display_name, real_name}`; `user_not_found`.
- users.lookupByEmail: `user`; `users_not_found`.
- conversations.create: `channel.{id, name}`; `name_taken`, `invalid_name_specials`.
- conversations.invite: `channel`; `already_in_channel`, `channel_not_found`.
- chat.postMessage: `channel`, `ts`, `message`; `channel_not_found`, `not_in_channel`.
- conversations.history / conversations.replies: `messages` (history newest first, replies parent
  first), `has_more`, `response_metadata.next_cursor` ("" on the last page); `oldest`/`latest`
  bound the messages' `ts`; `metadata` is returned only with `include_all_metadata`.
- usergroups.users.update: `usergroup` (`id`, `handle`, `users`); `users` is the whole new list, comma
  separated; `no_such_subteam`, `invalid_users` (empty, or someone not in the workspace). A group is
  made with `add_usergroup` (Slack's own usergroups.create is not called by Morgue).
A rate limit is HTTP 429 with `Retry-After` (https://api.slack.com/apis/rate-limits):
`rate_limit_once["chat.postMessage"] = 7` answers the next such call that way, once.
"""

import http.server
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

TOKEN = "xoxb-test-token"
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


@dataclass
class Call:
    method: str
    headers: dict[str, str]
    arguments: dict[str, Any]


@dataclass
class FakeSlack:
    url: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # U… → users.info's `user`
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)  # C… → {"name", "members", "messages"}
    calls: list[Call] = field(default_factory=list)
    usergroups: dict[str, dict[str, Any]] = field(default_factory=dict)  # S… → {"id", "handle", "users"}
    rate_limit_once: dict[str, int] = field(default_factory=dict)
    page_size: int = 100  # the most messages a history page holds, whatever `limit` asks
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def add_user(self, user_id: str, *, email: str, name: str) -> None:
        self.users[user_id] = {
            "id": user_id,
            "name": name.lower(),
            "real_name": name,
            "profile": {"email": email, "display_name": name, "real_name": name},
        }

    def add_usergroup(self, usergroup_id: str, *, handle: str, users: list[str] | None = None) -> None:
        self.usergroups[usergroup_id] = {"id": usergroup_id, "handle": handle, "users": list(users or [])}

    def say(self, channel_id: str, *, user: str, text: str, ts: str, thread_ts: str = "") -> None:
        """A person's message in the channel, as if typed at `ts`."""
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
            parent = next(m for m in self.channels[channel_id]["messages"] if m["ts"] == thread_ts)
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        self.channels[channel_id]["messages"].append(message)

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    # --- the methods ------------------------------------------------------------------

    def answer(self, method: str, arguments: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(arguments)

    def m_users_info(self, arguments: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(arguments.get("user", ""))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def m_users_lookupByEmail(self, arguments: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"]["email"].lower() == str(arguments.get("email", "")).lower():
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def m_conversations_create(self, arguments: dict[str, Any]) -> dict[str, Any]:
        name = str(arguments.get("name", ""))
        if not CHANNEL_NAME.match(name):
            return {"ok": False, "error": "invalid_name_specials"}
        if any(channel["name"] == name for channel in self.channels.values()):
            return {"ok": False, "error": "name_taken"}
        channel_id = f"C{next(self.ids):08d}"
        self.channels[channel_id] = {"name": name, "members": set(), "messages": []}
        return {"ok": True, "channel": {"id": channel_id, "name": name, "is_channel": True}}

    def m_conversations_invite(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(arguments.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        users = [user for user in str(arguments.get("users", "")).split(",") if user]
        if not users:
            return {"ok": False, "error": "no_user"}
        if all(user in channel["members"] for user in users):
            return {"ok": False, "error": "already_in_channel"}
        channel["members"].update(users)
        return {"ok": True, "channel": {"id": arguments["channel"], "name": channel["name"]}}

    def m_chat_postMessage(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel_id = arguments.get("channel", "")
        channel = self.channels.get(channel_id)
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not arguments.get("text") and not arguments.get("blocks"):
            return {"ok": False, "error": "no_text"}
        # Slack's ts is the posting time (seconds.microseconds), unique in the channel.
        ts = f"{time.time():.6f}"
        while any(m["ts"] == ts for m in channel["messages"]):
            ts = f"{float(ts) + 0.000001:.6f}"
        message: dict[str, Any] = {
            "type": "message",
            "bot_id": "B0MORGUE",
            "text": arguments.get("text", ""),
            "ts": ts,
        }
        for name in ("blocks", "metadata"):
            if arguments.get(name):
                value = arguments[name]
                message[name] = json.loads(value) if isinstance(value, str) else value
        channel["messages"].append(message)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": message}

    def m_usergroups_users_update(self, arguments: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(arguments.get("usergroup", ""))
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        users = [user for user in str(arguments.get("users", "")).split(",") if user]
        if not users or any(user not in self.users for user in users):
            return {"ok": False, "error": "invalid_users"}
        group["users"] = users
        return {"ok": True, "usergroup": dict(group, users=list(users), user_count=len(users))}

    def _window(self, arguments: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
        oldest = float(arguments.get("oldest") or 0)
        latest = float(arguments.get("latest") or 1e12)
        inclusive = str(arguments.get("inclusive", "")).lower() in ("1", "true")
        chosen = [
            message
            for message in messages
            if (oldest <= float(message["ts"]) <= latest)
            if inclusive or float(message["ts"]) not in (oldest, latest)
        ]
        if str(arguments.get("include_all_metadata", "")).lower() not in ("1", "true"):
            chosen = [{k: v for k, v in message.items() if k != "metadata"} for message in chosen]
        start = int(arguments.get("cursor") or 0)
        size = min(int(arguments.get("limit") or 100), self.page_size)
        page = chosen[start : start + size]
        more = start + size < len(chosen)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""},
        }

    def m_conversations_history(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(arguments.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        top = [m for m in channel["messages"] if m.get("thread_ts", m["ts"]) == m["ts"]]
        return self._window(arguments, sorted(top, key=lambda m: float(m["ts"]), reverse=True))

    def m_conversations_replies(self, arguments: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(arguments.get("channel", ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = arguments.get("ts", "")
        thread = [m for m in channel["messages"] if m["ts"] == ts or m.get("thread_ts") == ts]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return self._window(arguments, sorted(thread, key=lambda m: float(m["ts"])))


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                arguments = json.loads(raw or "{}")
            else:
                arguments = {name: values[-1] for name, values in parse_qs(raw).items()}
            method = self.path.removeprefix("/api/")
            with fake.lock:
                fake.calls.append(Call(method, dict(self.headers.items()), arguments))
                auth = self.headers.get("Authorization", "")
                status, headers = 200, {}
                if not auth:
                    body = {"ok": False, "error": "not_authed"}
                elif auth != f"Bearer {TOKEN}":
                    body = {"ok": False, "error": "invalid_auth"}
                elif method in fake.rate_limit_once:
                    status, headers = 429, {"Retry-After": str(fake.rate_limit_once.pop(method))}
                    body = {"ok": False, "error": "ratelimited"}
                else:
                    body = fake.answer(method, arguments)
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
