"""What an edit to a rotation changes for each person, and telling only them."""

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from morgue.emails import send_email
from morgue.tasking import enqueue_on_commit

from ..models import Rotation, Shift

SCHEDULE_CHANGE_EMAIL = "schedule-change"


@dataclass(frozen=True, order=True)
class HeldWindow:
    """One window in which a person holds a level of a rotation."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    rotation: str
    level: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rotation": self.rotation,
            "level": self.level,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


@dataclass
class PersonChange:
    """The future windows a person gains (`appear`) and loses (`disappear`) with an edit."""

    user: User
    appear: list[HeldWindow] = field(default_factory=list)
    disappear: list[HeldWindow] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "username": self.user.username,
            "appear": [window.as_dict() for window in self.appear],
            "disappear": [window.as_dict() for window in self.disappear],
        }


Snapshot = dict[int, set[HeldWindow]]


def snapshot(*, team_ids: Iterable[int], since: dt.datetime) -> Snapshot:
    """Who holds what from `since` on in the teams' rotations (the final, layer-resolved pieces).

    Adjacent pieces of one person, level and rotation are joined, so a piece
    that is only split (by an override boundary or a layer's edge) with the
    same holder on both sides is no change.
    """
    pieces = (
        Shift.objects.filter(rotation__team_id__in=list(team_ids), ends_at__gt=since)
        .order_by("rotation__slug", "level", "starts_at")
        .values_list("user_id", "rotation__slug", "level", "starts_at", "ends_at")
    )
    held: Snapshot = defaultdict(set)
    last: dict[tuple[str, str], tuple[int, dt.datetime, dt.datetime]] = {}
    for user_id, rotation, level, starts_at, ends_at in pieces:
        starts_at = max(starts_at, since)
        key = (rotation, level)
        previous = last.get(key)
        if previous is not None and previous[0] == user_id and previous[2] == starts_at:
            last[key] = (user_id, previous[1], ends_at)
            continue
        if previous is not None:
            held[previous[0]].add(HeldWindow(previous[1], previous[2], rotation, level))
        last[key] = (user_id, starts_at, ends_at)
    for (rotation, level), (user_id, starts_at, ends_at) in last.items():
        held[user_id].add(HeldWindow(starts_at, ends_at, rotation, level))
    return held


def compare(before: Snapshot, after: Snapshot) -> list[PersonChange]:
    """Per person whose future windows differ, what appears and what disappears, by username."""
    user_ids = [
        user_id for user_id in before.keys() | after.keys() if before.get(user_id) != after.get(user_id)
    ]
    users = get_user_model().objects.in_bulk(user_ids)
    changes = [
        PersonChange(
            users[user_id],
            appear=sorted(after.get(user_id, set()) - before.get(user_id, set())),
            disappear=sorted(before.get(user_id, set()) - after.get(user_id, set())),
        )
        for user_id in user_ids
    ]
    return sorted(changes, key=lambda change: change.user.username)


def tell_people(*, rotation: Rotation, changes: list[PersonChange]) -> None:
    """After commit, email each person whose shifts changed the list of what appeared and disappeared."""
    for change in changes:
        if not change.user.email:
            continue
        body = change.as_dict()
        key = hashlib.sha256(json.dumps([rotation.pk, body], sort_keys=True).encode()).hexdigest()[:32]
        enqueue_on_commit("oncall.tasks.tell_schedule_change", rotation.pk, change.user.pk, key, body)


def send_schedule_change(*, rotation_id: int, user_id: int, key: str, change: dict[str, Any]) -> bool:
    """Send one person the list of their shifts an edit added and removed (once per edit)."""
    rotation = Rotation.objects.filter(pk=rotation_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if rotation is None or user is None or not user.email:
        return False
    zone = rotation.zone

    def listed(windows: list[dict[str, str]]) -> list[str]:
        return [
            f"{window['rotation']} {window['level']}: "
            f"{dt.datetime.fromisoformat(window['starts_at']).astimezone(zone):%a %d %b %H:%M} – "
            f"{dt.datetime.fromisoformat(window['ends_at']).astimezone(zone):%a %d %b %H:%M}"
            for window in windows
        ]

    context = {
        "rotation": rotation,
        "person": user,
        "appear": listed(change["appear"]),
        "disappear": listed(change["disappear"]),
    }
    sent = send_email(name=SCHEDULE_CHANGE_EMAIL, key=key, to=[user.email], context=context)
    return sent is not None
