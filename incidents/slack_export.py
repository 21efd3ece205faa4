"""Read a Slack export ZIP as Slack hands it over, safely, and pick one channel's days from it.

Pure: no Django. The archive holds `channels.json` (and `groups.json` for private
channels), `users.json` (`org_users.json` on Enterprise Grid) and a folder per
channel with one `<YYYY-MM-DD>.json` file of messages per day
(https://slack.com/help/articles/220556107-How-to-read-Slack-data-exports).

The archive comes from whoever uploads it, so what must hold: it is a real ZIP;
it has at most MAX_MEMBERS members whose declared sizes add up to at most
MAX_UNCOMPRESSED bytes (a zip bomb is refused before anything is inflated); no
member is read past MAX_MEMBER_BYTES whatever it declares; paths that climb out
(`..`), absolute paths and backslashes are ignored. Nothing is written to disk.

The messages picked are returned with what a day file alone lacks filled in from
the archive's lists: a speaker name (`user_name`) where the message has no
`user_profile`, and `<@U123>` / `<#C123>` mentions given the person's or
channel's name, so the result is a plain message list `chatlog` can read.
"""

import datetime as dt
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MAX_ZIP_BYTES = 50 * 1024 * 1024  # the upload itself
MAX_MEMBERS = 20_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_MEMBER_BYTES = 20 * 1024 * 1024
DAY_FILE = re.compile(r"^(?P<channel>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})\.json$")
CHANNEL_LISTS = ("channels.json", "groups.json")
USER_LISTS = ("users.json", "org_users.json")


class SlackExportError(ValueError):
    """An archive that cannot be read as a Slack export, with the reason a person can act on."""


@dataclass
class SlackExport:
    """What the archive offers: its channels with their days, and the names behind ids."""

    archive: zipfile.ZipFile
    days: dict[str, list[dt.date]] = field(default_factory=dict)  # channel name → days it has files for
    users: dict[str, str] = field(default_factory=dict)  # U123 → display name
    channel_names: dict[str, str] = field(default_factory=dict)  # C123 → channel name
    members: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    @property
    def channels(self) -> list[str]:
        return sorted(self.days)


def looks_like_zip(name: str, head: bytes) -> bool:
    """An upload meant as a ZIP: by its name, or by the local file header's signature."""
    return name.lower().endswith(".zip") or head.startswith(b"PK\x03\x04")


def _safe(name: str) -> bool:
    parts = name.split("/")
    return not (name.startswith("/") or "\\" in name or ".." in parts or ":" in parts[0])


def _read_json(export: SlackExport, name: str) -> object:
    info = export.members.get(name)
    if info is None:
        return None
    try:
        with export.archive.open(info) as member:
            content = member.read(MAX_MEMBER_BYTES + 1)
    except RuntimeError as error:  # zipfile's word for an encrypted member
        raise SlackExportError(
            f"{name} in the archive is encrypted; export it again without a password."
        ) from error
    except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, zlib.error) as error:
        raise SlackExportError(
            f"{name} in the archive is damaged or compressed in a way that cannot be read."
        ) from error
    if len(content) > MAX_MEMBER_BYTES:
        raise SlackExportError(
            f"{name} in the archive is larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MB."
        )
    try:
        return json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise SlackExportError(f"{name} in the archive is not JSON.") from error


def _records(value: object) -> Iterable[Mapping[str, object]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _user_name(user: Mapping[str, object]) -> str:
    profile = user.get("profile")
    profile = profile if isinstance(profile, Mapping) else {}
    return str(
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or ""
    )


def open_export(data: bytes) -> SlackExport:
    """The archive's table of contents and name lists; refuses anything that is not a sane Slack export."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise SlackExportError(
            "The file is not a ZIP archive: upload the .zip Slack gives you, or paste the log as text."
        ) from error
    if len(infos) > MAX_MEMBERS:
        raise SlackExportError(f"The archive has more than {MAX_MEMBERS} files; export fewer channels.")
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        raise SlackExportError(
            f"The archive unpacks to more than {MAX_UNCOMPRESSED // (1024 * 1024)} MB; "
            "export fewer channels or days."
        )
    export = SlackExport(archive=archive)
    for info in infos:
        if info.is_dir() or not _safe(info.filename):
            continue
        export.members[info.filename] = info
        if match := DAY_FILE.match(info.filename):
            try:
                day = dt.date.fromisoformat(match["day"])
            except ValueError:
                continue
            export.days.setdefault(match["channel"], []).append(day)
    if not export.days:
        raise SlackExportError(
            "The archive has no channel folders of daily JSON files: is it a Slack export?"
        )
    for days in export.days.values():
        days.sort()
    for name in USER_LISTS:
        for user in _records(_read_json(export, name)):
            if user.get("id"):
                export.users[str(user["id"])] = _user_name(user) or str(user["id"])
    for name in CHANNEL_LISTS:
        for channel in _records(_read_json(export, name)):
            if channel.get("id") and channel.get("name"):
                export.channel_names[str(channel["id"])] = str(channel["name"])
    return export


def _resolve(message: dict[str, object], export: SlackExport) -> dict[str, object]:
    """The message with its speaker's name and its mentions' names, from the archive's lists."""
    message = dict(message)
    user = str(message.get("user") or "")
    profile = message.get("user_profile")
    has_profile = isinstance(profile, Mapping) and bool(
        profile.get("display_name") or profile.get("real_name")
    )
    is_person = message.get("subtype") != "bot_message" and not message.get("user_name")
    if is_person and not has_profile and user in export.users:
        message["user_name"] = export.users[user]
    text = message.get("text")
    if isinstance(text, str):
        text = re.sub(
            r"<@(\w+)>", lambda match: f"<@{match[1]}|{export.users.get(match[1], match[1])}>", text
        )
        text = re.sub(
            r"<#(\w+)(?:\|)?>",
            lambda match: f"<#{match[1]}|{export.channel_names.get(match[1], match[1])}>",
            text,
        )
        message["text"] = text
    return message


# What chatlog reads of a message; the rest (blocks, reactions, attachments) is left behind.
KEPT_KEYS = ("ts", "thread_ts", "type", "subtype", "user", "user_name", "username", "bot_id", "text")


def _slim(message: Mapping[str, object]) -> dict[str, object]:
    slim = {key: message[key] for key in KEPT_KEYS if key in message}
    for key in ("user_profile", "bot_profile"):
        value = message.get(key)
        if isinstance(value, Mapping):
            slim[key] = {name: value[name] for name in ("display_name", "real_name", "name") if name in value}
    files = message.get("files")
    if isinstance(files, list):
        slim["files"] = [
            {name: item[name] for name in ("title", "name") if name in item}
            for item in files
            if isinstance(item, Mapping)
        ]
    return slim


def channel_messages(
    export: SlackExport, *, channel: str, days: Iterable[dt.date]
) -> list[dict[str, object]]:
    """The channel's messages on those days, in the files' order, with names filled in."""
    messages: list[dict[str, object]] = []
    for day in sorted(set(days)):
        for message in _records(_read_json(export, f"{channel}/{day.isoformat()}.json")):
            messages.append(_resolve(_slim(message), export))
    return messages
