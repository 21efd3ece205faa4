"""Workflows that write incidents: create, edit with optimistic locking, revisions, status, deletion."""

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents.exceptions import StaleVersion
from incidents.merging import Choice, merge, resolve
from incidents.models import (
    MILESTONES,
    POSTMORTEM_FIELDS,
    POSTMORTEM_SECTIONS,
    EditorPresence,
    EventKind,
    Incident,
    Revision,
    Status,
    Tag,
    TimelineEvent,
)
from incidents.models.incident import search_vector_expression
from incidents.selectors.remediation import items_blocking_close
from incidents.selectors.running import template_for
from morgue import audit, permissions
from morgue.exceptions import MorgueError

FOREIGN_KEYS = ("team", "contact", "facilitator")
TIME_FIELDS = tuple(f"{name}_at" for name, _ in MILESTONES)
SOURCE_FIELDS = tuple(f"{name}_source" for name, _ in MILESTONES)
# Everything an edit may change, by model attribute name (`tags` and `status` are handled apart).
EDITABLE_FIELDS = (
    "title",
    "severity",
    "affected_service",
    "problem_type",
    "impact_type",
    *FOREIGN_KEYS,
    *TIME_FIELDS,
    *SOURCE_FIELDS,
    *POSTMORTEM_FIELDS,
)
# The state a revision records and a restore brings back (status is workflow, not content).
SNAPSHOT_FIELDS = (
    "title",
    "severity",
    "affected_service",
    "problem_type",
    "impact_type",
    *(f"{name}_id" for name in FOREIGN_KEYS),
    *TIME_FIELDS,
    *SOURCE_FIELDS,
    *POSTMORTEM_FIELDS,
)


def snapshot(incident: Incident, tags: Iterable[str]) -> dict[str, Any]:
    """The incident's content as JSON-ready values (times as ISO 8601 in UTC)."""
    state: dict[str, Any] = {}
    for name in SNAPSHOT_FIELDS:
        value = getattr(incident, name)
        state[name] = value.astimezone(dt.UTC).isoformat() if isinstance(value, dt.datetime) else value
    state["status"] = incident.status
    state["tags"] = sorted(tags)
    return state


def _tag_names(incident: Incident) -> list[str]:
    return sorted(tag.name for tag in incident.tags.all()) if incident.pk else []


def refresh_search_vector(incident: Incident) -> None:
    """Recompute the stored full-text vector (PostgreSQL; SQLite searches by substring instead)."""
    if connection.vendor == "postgresql":
        Incident.objects.filter(pk=incident.pk).update(search_vector=search_vector_expression())


def _set_tags(incident: Incident, names: Iterable[str]) -> None:
    tags = []
    for name in sorted(set(names)):
        tag, _ = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    incident.tags.set(tags)


def _move_to(*, incident: Incident, status: str | None, at: dt.datetime, resolved_at_given: bool) -> None:
    """Incident.move_to, given the remediation items that keep the incident from closing."""
    closing = status == Status.CLOSED and incident.status != Status.CLOSED and incident.pk is not None
    # Only closing reads the items: spare the query on every other edit.
    open_items = items_blocking_close(incident) if closing else []
    incident.move_to(status, at=at, open_items=open_items, resolved_at_given=resolved_at_given)


def _record_revision(
    *, incident: Incident, by: User | None, before: dict[str, Any], after: dict[str, Any], note: str = ""
) -> Revision:
    changed = [name for name in after if before.get(name) != after.get(name)]
    return Revision.objects.create(
        incident=incident,
        number=incident.version,
        author=by if by is not None and by.is_authenticated else None,
        changed_fields=changed,
        snapshot=after,
        note=note,
    )


@transaction.atomic
def create_incident(
    *,
    by: User | None,
    title: str,
    impact_started_at: dt.datetime,
    detected_at: dt.datetime,
    tags: Iterable[str] = (),
    status: str | None = None,
    **fields: Any,
) -> Incident:
    """Record an incident; its first revision is version 1.

    Without a status it is open, or resolved when it is given a resolution time
    (Incident.move_to); a status that contradicts the times is refused.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown incident fields: {sorted(unknown)}")
    permissions.require_actor(by, "declare", fields.get("team"), kind="incident")
    now = timezone.now()
    incident = Incident(
        title=title,
        impact_started_at=impact_started_at,
        detected_at=detected_at,
        created_by=by if by is not None and by.is_authenticated else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    incident.validate_order()
    # A new postmortem starts from the template that best fits its team and severity.
    incident.postmortem_template = template_for(severity=incident.severity, team_id=incident.team_id)
    incident.status = Status.OPEN
    resolved_at_given = incident.resolved_at is not None
    _move_to(incident=incident, status=status, at=now, resolved_at_given=resolved_at_given)
    incident.validate_order()
    incident.save()
    tags = list(tags)
    _set_tags(incident, tags)
    refresh_search_vector(incident)
    after = snapshot(incident, tags)
    _record_revision(incident=incident, by=by, before={}, after=after, note="Created")
    audit.record(audit.Action.CREATED, incident, changes=audit.diff({}, after), labels=AUDIT_LABELS, actor=by)
    return incident


# What a conflict calls each field, in sentences and on the conflict screen.
FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "severity": "Severity",
    "status": "Status",
    "team": "Team",
    "affected_service": "Affected service",
    "problem_type": "Problem type",
    "impact_type": "Impact type",
    "tags": "Tags",
    "contact": "Contact",
    "facilitator": "Facilitator",
    **{f"{name}_at": label for name, label in MILESTONES},
    **{f"{name}_source": f"{label}: source" for name, label in MILESTONES},
    **{name: label for name, label, _ in POSTMORTEM_SECTIONS},
}


# The same labels by snapshot key (`team_id`), for the audit trail.
AUDIT_LABELS = {**FIELD_LABELS, "deleted_at": "Deleted at"}
AUDIT_LABELS.update({f"{name}_id": FIELD_LABELS[name] for name in FOREIGN_KEYS})


def _state_key(name: str) -> str:
    """The snapshot key of an edited field (`team` is stored as `team_id`)."""
    return f"{name}_id" if name in FOREIGN_KEYS else name


def _change_name(name: str) -> str:
    """The field name an edit uses for `name` (`team_id` is edited as `team`)."""
    return name.removesuffix("_id") if name.removesuffix("_id") in FOREIGN_KEYS else name


def _assign(incident: Incident, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if name.endswith("_at") and isinstance(value, str):
            value = parse_datetime(value)
        setattr(incident, name, value)


def _state_at(*, incident: Incident, current: dict[str, Any], version: int) -> dict[str, Any]:
    """The content at `version`, from its revision; empty when history does not hold it."""
    if version == incident.version:
        return current
    revision = Revision.objects.filter(incident=incident, number=version).only("snapshot").first()
    return dict(revision.snapshot) if revision is not None else {}


def _apply_choices(
    *, changes: dict[str, Any], choices: Mapping[str, Choice], theirs: Mapping[str, Any]
) -> dict[str, Any]:
    """Turn how a person settled each conflict into the values to save.

    `theirs` is the content the conflict screen showed (the version the settled form
    is based on). "Keep theirs" leaves the field alone, so even a save made since is kept.
    """
    for name, choice in choices.items():
        if name not in changes:
            continue
        if choice is Choice.THEIRS:
            del changes[name]
        elif name in POSTMORTEM_FIELDS and isinstance(theirs.get(name), str):
            changes[name] = resolve(choice, theirs=theirs[name], mine=changes[name] or "")
    return changes


def _merge_onto_newer(
    *, locked: Incident, current: dict[str, Any], version: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """Of an edit made on `version`, the changes to apply on top of the newer saved content.

    Raises StaleVersion naming the fields both saves changed; nothing is saved then.
    """
    mine_incident = copy.copy(locked)
    _assign(mine_incident, {name: value for name, value in changes.items() if name not in ("tags", "status")})
    if "status" in changes:
        mine_incident.status = changes["status"]
    mine_state = snapshot(mine_incident, changes.get("tags", current["tags"]))
    keys = {name: _state_key(name) for name in changes}
    result = merge(
        base=_state_at(incident=locked, current=current, version=version),
        theirs=current,
        mine={key: mine_state[key] for key in keys.values()},
    )
    if result.conflicts:
        conflicts = [_change_name(key) for key in result.conflicts]
        raise StaleVersion(
            current_version=locked.version,
            conflicts=[(name, FIELD_LABELS.get(name, name)) for name in conflicts],
            kept_mine=[_change_name(key) for key in result.mine],
        )
    return {name: value for name, value in changes.items() if keys[name] in result.mine}


@transaction.atomic
def update_incident(
    *,
    incident: Incident,
    by: User | None,
    version: int | None,
    changes: Mapping[str, Any],
    note: str = "",
    choices: Mapping[str, Choice] | None = None,
) -> Incident:
    """Apply an edit made on top of `version`, merged field by field onto any newer save.

    A field only the newer save changed keeps its value; a field only this edit
    changed takes this edit's; a field both changed differently refuses the whole
    edit with StaleVersion naming it (incidents.merging). `choices` settles such
    conflicts, as shown at `version` (keep theirs, mine or both). `version=None`
    applies a workflow change (scheduling, status) on top of whatever is current;
    document edits always pass the version they read.
    """
    changes = dict(changes)
    allowed = set(EDITABLE_FIELDS) | {f"{name}_id" for name in FOREIGN_KEYS} | {"tags", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown incident fields: {sorted(unknown)}")
    permissions.require_actor(by, "edit", incident)
    if changes.get("team") is not None:
        # Handing an incident to another team needs a responder's role there too.
        permissions.require_actor(by, "edit", changes["team"], kind="incident")
    # The row lock serialises concurrent saves of one incident: the second
    # waits, then sees the bumped version and is merged or refused.
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    before = snapshot(locked, _tag_names(locked))
    if choices and version is not None:
        shown = _state_at(incident=locked, current=before, version=version)
        changes = _apply_choices(changes=changes, choices=choices, theirs=shown)
    if version is not None and locked.version != version:
        changes = _merge_onto_newer(locked=locked, current=before, version=version, changes=changes)
        note = note or f"Merged with version {locked.version}"
    tags = changes.pop("tags", None)
    status = changes.pop("status", None)
    resolved_before = locked.resolved_at
    _assign(locked, changes)
    # The status follows the times, or is checked against them (Incident.move_to).
    resolved_at_given = "resolved_at" in changes and locked.resolved_at != resolved_before
    _move_to(incident=locked, status=status, at=timezone.now(), resolved_at_given=resolved_at_given)
    locked.validate_order()
    after = snapshot(locked, before["tags"] if tags is None else tags)
    if after == before:
        return locked
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save()
    if tags is not None:
        _set_tags(locked, tags)
    refresh_search_vector(locked)
    if after["title"] != before["title"]:
        from incidents.services.remediation import follow_incident_title

        follow_incident_title(incident=locked)
    _record_revision(incident=locked, by=by, before=before, after=after, note=note)
    if resolved_before is None and locked.resolved_at is not None:
        from incidents.services.chat_channel import incident_resolved

        incident_resolved(incident=locked)
    audit.record_changes(locked, before=before, after=after, labels=AUDIT_LABELS, actor=by)
    if by is not None and by.is_authenticated:
        EditorPresence.objects.filter(incident=locked, user=by).delete()
    return locked


def change_status(*, incident: Incident, status: str, by: User | None) -> Incident:
    """Move an incident to `status` (checked by Incident.move_to, like every other path)."""
    return update_incident(incident=incident, by=by, version=None, changes={"status": status})


@transaction.atomic
def restore_revision(*, incident: Incident, revision: Revision, by: User) -> Incident:
    """Bring back a revision's content as a new revision (nothing in history is rewritten)."""
    state = revision.snapshot
    changes: dict[str, Any] = {name: state[name] for name in SNAPSHOT_FIELDS if name in state}
    changes["tags"] = state.get("tags", [])
    status = Incident.objects.select_for_update().values_list("status", flat=True).get(pk=incident.pk)
    if changes.get("resolved_at") is None and status != Status.OPEN:
        # A revision from before the resolution has no time; the incident is still
        # resolved (status is workflow), so it keeps its time (Incident.move_to).
        changes.pop("resolved_at", None)
    return update_incident(
        incident=incident, by=by, version=None, changes=changes, note=f"Restored revision {revision.number}"
    )


def mark_editing(*, incident: Incident, user: User) -> EditorPresence:
    """Note that `user` has the editor open now (shown to others for two minutes)."""
    presence, _ = EditorPresence.objects.update_or_create(
        incident=incident, user=user, defaults={"seen_at": timezone.now()}
    )
    return presence


@transaction.atomic
def delete_incident(*, incident: Incident, by: User) -> Incident:
    """Soft-delete (staff can restore it): off every list and metric, and its coming review called off."""
    # Imported here: the review workflows build on this module's update_incident.
    from .review import call_off_review_of_deleted

    permissions.require(by, "delete", incident)
    deleted = Incident.objects.filter(pk=incident.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now()
    )
    if deleted:
        call_off_review_of_deleted(incident=incident, by=by)
    incident.refresh_from_db(fields=["deleted_at", "status", "version", "updated_at"])
    if deleted:
        audit.record(
            audit.Action.DELETED,
            incident,
            changes={"deleted_at": [None, audit.json_value(incident.deleted_at)]},
            labels=AUDIT_LABELS,
            actor=by,
        )
    return incident


@transaction.atomic
def restore_incident(*, incident: Incident, by: User) -> Incident:
    """Undo a soft delete."""
    permissions.require(by, "restore", incident)
    was_deleted_at = Incident.objects.filter(pk=incident.pk).values_list("deleted_at", flat=True).first()
    Incident.objects.filter(pk=incident.pk).update(deleted_at=None)
    incident.refresh_from_db(fields=["deleted_at"])
    if was_deleted_at is not None:
        audit.record(
            audit.Action.RESTORED,
            incident,
            changes={"deleted_at": [audit.json_value(was_deleted_at), None]},
            labels=AUDIT_LABELS,
            actor=by,
        )
    return incident


@transaction.atomic
def add_timeline_event(
    *,
    incident: Incident,
    by: User | None,
    occurred_at: dt.datetime,
    kind: str,
    text: str,
    link: str = "",
    speaker: str = "",
) -> TimelineEvent:
    """Add one event to the incident's timeline."""
    if kind not in EventKind.values:
        raise MorgueError(
            f"{kind} is not an event kind: use one of {', '.join(EventKind.values)}.", field="kind"
        )
    return TimelineEvent.objects.create(
        incident=incident,
        occurred_at=occurred_at,
        kind=kind,
        text=text,
        link=link,
        speaker=speaker,
        author=by if by is not None and by.is_authenticated else None,
    )
