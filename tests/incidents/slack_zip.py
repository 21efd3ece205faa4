"""Slack export ZIPs built in memory, in the layout Slack's export has
(https://slack.com/help/articles/220556107-How-to-read-Slack-data-exports): `channels.json`,
`users.json`, and a folder per channel holding one `<YYYY-MM-DD>.json` list of messages per day.
"""

import io
import json
import zipfile

CHANNELS = [
    {"id": "C0WARROOM", "name": "warroom", "created": 1700000000, "members": ["U01ALICE", "U02BOB"]},
    {"id": "C0GENERAL", "name": "general", "created": 1700000000, "members": ["U01ALICE"]},
]
# users.json entries as Slack's users.list returns them: `name` is the handle, the profile has the names.
USERS = [
    {
        "id": "U01ALICE",
        "name": "alice.s",
        "real_name": "Alice Smith",
        "profile": {"display_name": "alice", "real_name": "Alice Smith"},
    },
    {
        "id": "U02BOB",
        "name": "bob",
        "real_name": "Bob Lee",
        "profile": {"display_name": "", "real_name": "Bob Lee"},
    },
]

TS = 1795788000  # 2026-11-27 14:00:00 UTC


def message(offset: int, text: str, **fields) -> dict:
    """A message `offset` seconds after TS, as a day file holds it."""
    return {"type": "message", "ts": f"{TS + offset}.000100", "text": text, **fields}


def slack_zip(days: dict[str, list[dict]], *, extra: dict[str, bytes] | None = None) -> bytes:
    """`days` maps `<channel>/<YYYY-MM-DD>` to that day's messages."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps(CHANNELS))
        archive.writestr("users.json", json.dumps(USERS))
        for path, messages in days.items():
            archive.writestr(f"{path}.json", json.dumps(messages))
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()
