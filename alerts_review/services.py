"""Workflows of the alerts review: receiving alerts, classifying them, reviewing a month."""

import datetime as dt
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from incidents.models import RemediationCategory
from incidents.services.remediation import create_item as create_remediation_item
from morgue import audit, metrics, permissions
from morgue.emails import send_email
from morgue.exceptions import Conflict
from morgue.models import EmailDelivery, Profile, Team
from oncall.models import Level, Shift
from oncall.selectors import Holders

from .alertmanager import validate_alertmanager_url
from .exceptions import SourceTokenInvalid, UnknownCategory, WrongReceiver
from .models import (
    ALERT_COUNTS,
    Alert,
    AlertReview,
    AlertSource,
    Category,
    PagingDecision,
    ReviewAction,
    RoutingRule,
    SourceKind,
    TruncatedAlerts,
    quarter_of,
)
from .paging import request_paging
from .payloads import Incoming, Refused, storable

# Fields a repeated delivery may change; the classification and who was paged stay.
REDELIVERY_FIELDS = ["state", "severity", "summary", "labels", "host", "resolved_at", "updated_at"]
# Fields a re-notification of an open problem (Nagios, Icinga 2) may change.
RENOTIFICATION_FIELDS = ["state", "summary", "labels", "updated_at"]


@dataclass
class Receipt:
    received: int = 0
    created: int = 0
    updated: int = 0
    refused: list[Refused] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"received": self.received, "created": self.created, "updated": self.updated}
        if self.refused:
            stored = self.received - len(self.refused)
            body["detail"] = (
                f"{len(self.refused)} of {self.received} alerts were refused; the other {stored} were stored."
            )
            body["errors"] = [{"index": item.index, "detail": item.detail} for item in self.refused]
        return body


def authenticate_source(*, token: str, kinds: Iterable[str]) -> AlertSource:
    """The source a receiver's token belongs to; refuses missing, unknown, revoked or misdirected ones."""
    if not token:
        raise SourceTokenInvalid(
            "This receiver needs the alert source's token: send 'Authorization: Token …' or ?token=…."
        )
    source = AlertSource.for_token(token)
    if source is None:
        raise SourceTokenInvalid("The alert source token is not valid.")
    if source.revoked_at is not None:
        raise SourceTokenInvalid(f"The token of alert source {source.name} was revoked.")
    if source.kind not in kinds:
        raise WrongReceiver(
            f"Alert source {source.name} is a {source.get_kind_display()} source; "
            "send its alerts to its own receiver."
        )
    return source


@transaction.atomic
def create_alert_source(
    *, name: str, kind: str, team: Team | None = None, time_zone: str = "UTC", alertmanager_url: str = ""
) -> AlertSource:
    """Register a system that sends alerts; its token authenticates the receivers.

    An Alertmanager URL (alertmanager sources) must be an allowed outbound
    address (alerts_review.alertmanager); ValidationError names the problem.
    """
    if kind not in SourceKind.values:
        raise ValueError(f"{kind} is not a source kind; choose one of {', '.join(SourceKind.values)}.")
    if AlertSource.objects.filter(name=name).exists():
        raise Conflict(f"An alert source named {name} already exists.", field="name")
    if alertmanager_url and kind != SourceKind.ALERTMANAGER:
        raise ValidationError("Only an Alertmanager source has an Alertmanager URL.")
    validate_alertmanager_url(alertmanager_url)
    source = AlertSource(
        name=name, kind=kind, team=team, time_zone=time_zone, alertmanager_url=alertmanager_url
    )
    source.issue_token()
    source.save()
    # The trail keeps a fingerprint of the token's hash, never the token (morgue.audit.SECRET_WORDS).
    audit.record_created(source)
    return source


@transaction.atomic
def reset_source_token(*, source: AlertSource) -> AlertSource:
    """Give an alert source a new token (the returned source's `token`, its only copy); the old one stops."""
    source = AlertSource.objects.select_for_update().get(pk=source.pk)
    before = audit.values(source, ["token_hash"])
    token = source.issue_token()
    source.save(update_fields=["token_prefix", "token_hash"])
    audit.record(
        audit.Action.TOKEN_RESET,
        source,
        changes=audit.diff(before, audit.values(source, ["token_hash"])),
        labels={"token_hash": "Token"},
    )
    source.token = token
    return source


@transaction.atomic
def revoke_source(*, source: AlertSource) -> AlertSource:
    """Revoke an alert source's token: its receivers refuse it from now on."""
    source = AlertSource.objects.select_for_update().get(pk=source.pk)
    if source.revoked_at is not None:
        return source
    source.revoke()
    audit.record(
        audit.Action.CHANGED,
        source,
        changes={"revoked_at": [None, audit.json_value(source.revoked_at)]},
        labels={"revoked_at": "Token revoked at"},
    )
    return source


def _new_alert(
    item: Incoming, *, team: Team | None, on_call: "OnCallLookup", source: str, **fields: Any
) -> Alert:
    """An unsaved Alert for an incoming notification, with who was paged and whether it was out of hours."""
    paged, out_of_hours = on_call.paged(team, item.fired_at)
    return Alert(
        source=source,
        identity=item.identity,
        check_name=item.check,
        host=item.host,
        state=item.state,
        severity=item.severity,
        labels=item.labels,
        summary=item.summary,
        fired_at=item.fired_at,
        resolved_at=item.resolved_at,
        problem_id=item.problem_id,
        is_test=item.is_test,
        team=team,
        paged=paged,
        out_of_hours=out_of_hours,
        **fields,
    )


@transaction.atomic
def receive_alerts(
    *,
    items: list[Incoming | Refused],
    source_name: str,
    alert_source: AlertSource | None = None,
    truncated: int = 0,
    group_key: str = "",
) -> Receipt:
    """Store a batch of incoming alerts: new ones created, repeated deliveries updated in place.

    `truncated` is how many alerts the sender says it left out of this batch
    (Alertmanager's truncatedAlerts); it is recorded for the monthly report.
    """
    receipt = Receipt(received=len(items))
    metrics.count_on_commit(metrics.alerts_received, len(items), source=source_name)
    receipt.refused = [item for item in items if isinstance(item, Refused)]
    incoming = [item for item in items if isinstance(item, Incoming)]
    new_alerts = []
    touched: list[int] = []  # every alert stored or changed, for the paging decision after commit
    for item in incoming:
        if item.resolves_open:
            receipt.updated += _resolve_open(item, source_name, touched)
        elif (item.problem_id or item.renotification) and _renotify(item, source_name, touched):
            receipt.updated += 1
        else:
            new_alerts.append(item)
    by_key = {(item.identity, item.fired_at): item for item in new_alerts}
    batch = list(by_key.values())
    teams = route_to_teams(batch, default_team=alert_source.team if alert_source else None)
    if truncated > 0:
        _record_truncation(count=truncated, group_key=group_key, alert_source=alert_source, teams=teams)
    if not by_key:
        request_paging(touched)
        return receipt
    on_call = OnCallLookup(
        team_ids={team.pk for team in teams if team}, instants=[item.fired_at for item in batch]
    )
    upsert = _upsert_in_postgres if connection.vendor == "postgresql" else _upsert_with_orm
    stored = upsert(batch, teams, on_call=on_call, source=source_name, alert_source=alert_source)
    created = sum(1 for _, was_created in stored if was_created)
    receipt.created += created
    receipt.updated += len(stored) - created
    request_paging([*touched, *(pk for pk, _ in stored)])
    return receipt


Stored = list[tuple[int, bool]]  # each alert's id, and whether this batch created it


def _upsert_with_orm(
    batch: list[Incoming],
    teams: list[Team | None],
    *,
    on_call: "OnCallLookup",
    source: str,
    alert_source: AlertSource | None,
) -> Stored:
    existing = set(
        Alert.objects.filter(
            source=source,
            identity__in={item.identity for item in batch},
            fired_at__in={item.fired_at for item in batch},
        ).values_list("identity", "fired_at")
    )
    alerts = [
        _new_alert(item, team=team, on_call=on_call, source=source, alert_source=alert_source)
        for item, team in zip(batch, teams, strict=True)
    ]
    # One upsert for the batch; the unique constraint makes a concurrent
    # duplicate delivery land on the same row (the counts may then be off by it).
    # Batches of 500 rows keep each statement under every database's parameter limit.
    Alert.objects.bulk_create(
        alerts,
        update_conflicts=True,
        unique_fields=["source", "identity", "fired_at"],
        update_fields=REDELIVERY_FIELDS,
        batch_size=500,
    )
    # The upsert returns every row's id, inserted or updated (SQLite 3.35+).
    return [(alert.pk, (alert.identity, alert.fired_at) not in existing) for alert in alerts]


# Every column an incoming alert sets, with its PostgreSQL type; the rest keep
# their null or are set by the review (category, note, classified_by, page).
UPSERT_COLUMNS = {
    "source": "varchar",
    "alert_source_id": "bigint",
    "identity": "varchar",
    "check_name": "varchar",
    "host": "varchar",
    "state": "varchar",
    "severity": "varchar",
    "labels": "jsonb",
    "summary": "text",
    "fired_at": "timestamptz",
    "fired_quarter": "integer",
    "resolved_at": "timestamptz",
    "problem_id": "varchar",
    "is_test": "boolean",
    "team_id": "bigint",
    "paged_id": "integer",
    "out_of_hours": "boolean",
    "note": "text",
    "woke_me_up": "boolean",
    "paging": "varchar",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}


def _upsert_in_postgres(
    batch: list[Incoming],
    teams: list[Team | None],
    *,
    on_call: "OnCallLookup",
    source: str,
    alert_source: AlertSource | None,
) -> Stored:
    """The batch in one INSERT … ON CONFLICT from arrays, which answers which rows it created (xmax = 0).

    The same rows as _upsert_with_orm, written without a model instance per
    alert: at 100 alerts a batch the ORM's per-field preparation was a quarter
    of the receiver's time. The kept counts follow through the table's triggers.
    """
    now = timezone.now()
    rows = []
    for item, team in zip(batch, teams, strict=True):
        paged, out_of_hours = on_call.paged(team, item.fired_at)
        rows.append(
            (
                source,
                alert_source.pk if alert_source else None,
                item.identity,
                item.check,
                item.host,
                item.state,
                item.severity,
                json.dumps(item.labels),
                item.summary,
                item.fired_at,
                quarter_of(item.fired_at),
                item.resolved_at,
                item.problem_id,
                item.is_test,
                team.pk if team else None,
                paged.pk if paged else None,
                out_of_hours,
                "",
                False,
                PagingDecision.UNDECIDED.value,
                now,
                now,
            )
        )
    columns = list(UPSERT_COLUMNS)
    arrays = [list(values) for values in zip(*rows, strict=True)]
    unnest = ", ".join(f"%s::{'text' if kind == 'jsonb' else kind}[]" for kind in UPSERT_COLUMNS.values())
    picked = ", ".join(f"{name}::jsonb" if kind == "jsonb" else name for name, kind in UPSERT_COLUMNS.items())
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in REDELIVERY_FIELDS)
    # Column names and types come from the code above; every value is a parameter.
    sql = (
        f"INSERT INTO {Alert._meta.db_table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {picked} FROM unnest({unnest}) AS incoming({', '.join(columns)}) "
        f"ON CONFLICT (source, identity, fired_at) DO UPDATE SET {updates} "
        "RETURNING id, xmax = 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return [(pk, created) for pk, created in cursor.fetchall()]


def _open_alerts(item: Incoming, source_name: str) -> "QuerySet[Alert]":
    return Alert.objects.select_for_update().filter(
        source=source_name, identity=item.identity, resolved_at__isnull=True
    )


def _renotify(item: Incoming, source_name: str, touched: list[int]) -> bool:
    """Update the open alert of the problem a notification repeats; False when none is open.

    With a problem id, the alert of that problem; with only a notification
    number above 1, the latest open alert for the same host and service.
    """
    alerts = _open_alerts(item, source_name).order_by("-fired_at")
    alert = alerts.filter(problem_id=item.problem_id).first() if item.problem_id else None
    if alert is None and item.renotification:
        # Stored without a problem id (sent before the command passed it): the latest open one.
        alert = alerts.filter(problem_id="", fired_at__lte=item.fired_at).first()
    if alert is None:
        return False
    alert.problem_id = item.problem_id or alert.problem_id
    alert.state = item.state or alert.state
    alert.summary = item.summary or alert.summary
    alert.labels = item.labels
    alert.save(update_fields=["problem_id", *RENOTIFICATION_FIELDS])
    touched.append(alert.pk)
    return True


def _resolve_open(item: Incoming, source_name: str, touched: list[int]) -> int:
    """Close every open alert a recovery ends; returns how many (0 when none is open).

    A recovery means the host or service is fine again, so every problem
    still open for it from before the recovery is over (a re-notification
    stored as its own alert, or one whose recovery was lost), and the problem
    the recovery names (LASTSERVICEPROBLEMID) whatever the clocks say.
    """
    ended = Q(fired_at__lte=item.fired_at)
    if item.problem_id:
        ended |= Q(problem_id=item.problem_id)
    alerts = list(_open_alerts(item, source_name).filter(ended))
    now = timezone.now()
    for alert in alerts:
        alert.resolved_at = max(item.resolved_at or item.fired_at, alert.fired_at)
        alert.state = item.state or "resolved"
        alert.updated_at = now
    Alert.objects.bulk_update(alerts, ["resolved_at", "state", "updated_at"])
    touched.extend(alert.pk for alert in alerts)
    return len(alerts)


def _record_truncation(
    *, count: int, group_key: str, alert_source: AlertSource | None, teams: list[Team | None]
) -> TruncatedAlerts:
    # The left-out alerts are of the same group as the ones received: their team
    # is the one those share, else the source's.
    shared = set(teams)
    team = shared.pop() if len(shared) == 1 else None
    if team is None and alert_source is not None and not teams:
        team = alert_source.team
    return TruncatedAlerts.objects.create(
        alert_source=alert_source, team=team, group_key=str(storable(group_key)), count=count
    )


def route_to_teams(items: list[Incoming], *, default_team: Team | None) -> list[Team | None]:
    """Each alert's team: its team label, else the first routing rule matching its check, else the default."""
    slugs = {item.team for item in items if item.team}
    named = {team.slug: team for team in Team.objects.filter(slug__in=slugs)} if slugs else {}
    rules: list[RoutingRule] | None = None
    teams: list[Team | None] = []
    for item in items:
        team = named.get(item.team)
        if team is None:
            if rules is None:
                rules = list(RoutingRule.objects.select_related("team"))
            team = next(
                (rule.team for rule in rules if fnmatch.fnmatchcase(item.check, rule.check_pattern)),
                default_team,
            )
        teams.append(team)
    return teams


class OnCallLookup:
    """Who held L1 for each team over a span of instants, from one query (oncall.selectors.Holders)."""

    def __init__(self, *, team_ids: set[int], instants: list[dt.datetime]):
        self.holders = Holders(level=Level.L1, team_ids=team_ids, instants=instants)

    def paged(self, team: Team | None, at: dt.datetime) -> tuple[User | None, bool]:
        """(the person paged, whether it was inside their sleep hours) at an instant."""
        person = self.holders.person(team.pk, at) if team is not None else None
        if person is None:
            return None, False
        return person, _profile(person).is_asleep_at(at)


def _profile(user: User) -> Profile:
    try:
        profile: Profile = user.profile  # the stubs do not see the reverse one-to-one on auth.User
        return profile
    except Profile.DoesNotExist:
        return Profile(user=user)  # the defaults: UTC, asleep 22:00–07:00


# --- Classification -----------------------------------------------------------


def category_by_slug(slug: str | None) -> Category | None:
    if slug in (None, ""):
        return None
    category = Category.objects.filter(slug=slug).first()
    if category is None:
        known = ", ".join(Category.objects.values_list("slug", flat=True))
        raise UnknownCategory(f"{slug} is not a category; choose one of {known}.", field="category")
    return category


@transaction.atomic
def classify_alert(
    *,
    alert: Alert,
    by: User,
    category: Category | None,
    note: str | None = None,
    woke_me_up: bool | None = None,
) -> Alert:
    """Record what an alert was worth; note and woke_me_up stay as they were when not given."""
    permissions.require(by, "classify", alert)
    before = audit.values(alert, CLASSIFICATION_FIELDS)
    alert.classify(
        category=category,
        note=alert.note if note is None else note,
        woke_me_up=alert.woke_me_up if woke_me_up is None else woke_me_up,
        by=by,
    )
    alert.save(
        update_fields=["category", "note", "woke_me_up", "classified_by", "classified_at", "updated_at"]
    )
    audit.record_changes(
        alert, before=before, after=audit.values(alert, CLASSIFICATION_FIELDS), action=audit.Action.CLASSIFIED
    )
    return alert


# What the audit trail shows of a classification.
CLASSIFICATION_FIELDS = ("category", "note", "woke_me_up")


@transaction.atomic
def classify_check_in_shift(*, shift: Shift, check: str, category: Category, by: User) -> int:
    """Give every alert of one check during a shift the same category; returns how many."""
    permissions.require(by, "classify", shift)
    alerts = Alert.objects.fired_between(shift.starts_at, shift.ends_at).filter(
        team_id=shift.rotation.team_id, check_name=check
    )
    # One entry per alert whose category changes, each with the category it had.
    previous = list(alerts.exclude(category=category).select_related("category"))
    count = alerts.update(
        category=category, classified_by=by, classified_at=timezone.now(), updated_at=timezone.now()
    )
    for alert in previous:
        audit.record(
            audit.Action.CLASSIFIED,
            alert,
            changes={"category": [audit.json_value(alert.category), str(category)]},
            labels={"category": "Category"},
            actor=by,
        )
    return count


# --- The monthly review ---------------------------------------------------------


@transaction.atomic
def record_review(*, team: Team, month: dt.date, notes: str) -> AlertReview:
    """Create or update a team's review record for a month."""
    review, _ = AlertReview.objects.update_or_create(
        team=team, month=month.replace(day=1), defaults={"notes": notes}
    )
    return review


# A recommendation's reason → the remediation category of the work it asks for:
# fixing the check prevents the noise; moving when it pages changes a process.
REASON_CATEGORIES = {
    "threshold": RemediationCategory.PREVENT,
    "check-faulty": RemediationCategory.PREVENT,
    "never_actionable": RemediationCategory.PREVENT,
    "delete": RemediationCategory.PREVENT,
    "timeperiod": RemediationCategory.PROCESS,
    "out_of_hours": RemediationCategory.PROCESS,
    "working-hours": RemediationCategory.PROCESS,
}
REASON_WORDS = {
    "threshold": "its threshold needs adjusting or the check is faulty",
    "check-faulty": "the check is faulty",
    "never_actionable": "none of its alerts was actionable",
    "delete": "it could be deleted",
    "timeperiod": "it fires at inappropriate times",
    "out_of_hours": "it pages people in their sleep hours without needing action",
    "working-hours": "it should page in working hours only",
}


def remediation_category(reason: str) -> str:
    """The remediation category for a recommendation's reason (prevent unless it is about when it pages)."""
    if reason in REASON_CATEGORIES:
        return REASON_CATEGORIES[reason]
    hours = ("time", "hour", "period")
    about_when = any(word in reason for word in hours)
    return RemediationCategory.PROCESS if about_when else RemediationCategory.PREVENT


@transaction.atomic
def act_on_recommendation(
    *,
    team: Team,
    month: dt.date,
    check: str,
    reason: str,
    summary: str,
    track: str,
    by: User,
    owner: User | None = None,
) -> ReviewAction:
    """Turn a report's recommendation into a dev or ops remediation item, recorded on the month's review."""
    month = month.replace(day=1)
    review, _ = AlertReview.objects.get_or_create(team=team, month=month)
    if review.actions.filter(check_name=check, reason=reason).exists():
        raise Conflict(f"The review already acts on {check} ({reason}).")
    words = REASON_WORDS.get(reason, reason.replace("_", " "))
    report_url = reverse("alerts_review:report", args=[f"{month:%Y-%m}"]) + f"?team={team.slug}"
    description = (
        f"Decided in the [{team.name} alerts review of {month:%B %Y}]({report_url}): "
        f"the check `{check}` needs attention because {words} (reason: {reason}).\n\n{summary}"
    )
    title = summary.strip()
    try:
        # One savepoint for both rows: a concurrent decision on the same check
        # and reason fails the unique constraint and leaves no stray item.
        with transaction.atomic():
            item = create_remediation_item(
                incident=None,
                origin_title=f"{team.name} alerts review, {month:%B %Y}",
                origin_url=f"{report_url}#review",
                title=title if len(title) <= 200 else title[:199] + "…",
                description=description,
                kind=track,
                category=remediation_category(reason),
                owner=owner or by,
                team=team,
                created_by=by,
            )
            return ReviewAction.objects.create(
                review=review,
                check_name=check,
                reason=reason,
                summary=summary[:300],
                track=track,
                remediation=item,
                created_by=by,
            )
    except IntegrityError:
        raise Conflict(f"The review already acts on {check} ({reason}).") from None


def send_team_alert_report(*, team: Team, month: dt.date) -> EmailDelivery | None:
    """Email a team's monthly alerts report to its members, once; None when already sent or nobody to tell."""
    from .selectors import monthly_report  # selectors import services' helpers

    month = month.replace(day=1)
    recipients = sorted(
        {email for email in team.members.filter(is_active=True).values_list("email", flat=True) if email}
    )
    if not recipients:
        return None

    def context() -> dict[str, Any]:
        # Built only by the worker that wins the claim: the report costs queries.
        return {
            "team": team,
            "report": monthly_report(month=month, team=team),
            "month": month,
            "url": f"{settings.MORGUE_BASE_URL}/alerts/reports/{month:%Y-%m}/?team={team.slug}",
        }

    return send_email(name="alert-report", key=f"{team.pk}/{month:%Y-%m}", to=recipients, context=context)


def teams_to_report() -> list[int]:
    return list(Team.objects.filter(~Q(members=None)).distinct().values_list("pk", flat=True))


# --- History import ------------------------------------------------------------------


@dataclass
class HistoryRow:
    number: int
    source: str
    incoming: Incoming
    category: Category | None = None
    note: str = ""
    woke_me_up: bool = False


@transaction.atomic
def import_history(*, rows: list[HistoryRow]) -> tuple[int, list[int]]:
    """Store past alerts as they were classified; returns (imported, row numbers skipped as duplicates)."""
    if not rows:
        return 0, []
    teams = route_to_teams([row.incoming for row in rows], default_team=None)
    on_call = OnCallLookup(
        team_ids={team.pk for team in teams if team}, instants=[row.incoming.fired_at for row in rows]
    )
    existing: set[tuple[str, str, dt.datetime]] = set()
    for source in {row.source for row in rows}:
        mine = [row.incoming for row in rows if row.source == source]
        existing.update(
            (source, identity, fired_at)
            for identity, fired_at in Alert.objects.filter(
                source=source,
                identity__in={item.identity for item in mine},
                fired_at__in={item.fired_at for item in mine},
            ).values_list("identity", "fired_at")
        )
    alerts, duplicates = [], []
    now = timezone.now()
    for row, team in zip(rows, teams, strict=True):
        item = row.incoming
        key = (row.source, item.identity, item.fired_at)
        if key in existing:
            duplicates.append(row.number)
            continue
        existing.add(key)
        alerts.append(
            _new_alert(
                item,
                team=team,
                on_call=on_call,
                source=row.source,
                category=row.category,
                note=row.note,
                woke_me_up=row.woke_me_up,
                classified_at=now if row.category else None,
                # History: its moment to page is long past, so the paging sweep leaves it be.
                paging=PagingDecision.RECORDED,
            )
        )
    Alert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=500)
    return len(alerts), duplicates


def compact_alert_counts() -> None:
    """Fold the report counts' deltas into the counts (see morgue.counters)."""
    for counts in ALERT_COUNTS:
        counts.compact(connection)
