"""Workflows that page from stored alerts: the team's policy, maintenance windows, heartbeats.

Receivers store alerts in the request's transaction and answer; once that
commits, `request_paging` enqueues `decide_paging` for the alerts touched, and
a beat sweep decides any whose task was lost. The matching rules themselves
are pure (`alerts_review.paging_rules`); the escalation is oncall's
(`oncall.services.page_team`, `resolve_page`).

Concurrency: two batches of one team may be decided at once (two workers).
Each decision locks the team's row first (`select_for_update`), so the second
sees the page the first opened and attaches to it instead of opening another.
"""

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from morgue import audit
from morgue.models import Team
from morgue.tasking import enqueue_on_commit
from oncall.models import Page, PageStatus
from oncall.services import page_team, resolve_page

from . import paging_rules
from .models import Alert, AlertSilence, Heartbeat, MaintenanceWindow, PagingDecision, PagingPolicy

PAGING_TASK = "alerts_review.tasks.page_for_alerts"
EXPIRE_SILENCES_TASK = "alerts_review.tasks.expire_silences"
# An alert still undecided this long after it was stored is history (its
# moment to page has passed); the sweep leaves it recorded-as-is.
UNDECIDED_HORIZON = dt.timedelta(hours=1)
# An alert on a check within this long after a maintenance window on it ended
# is suggested as downtime-expired in the review.
DOWNTIME_EXPIRED_WITHIN = dt.timedelta(hours=1)
DOWNTIME_EXPIRED = "downtime-expired"


def request_paging(alert_ids: Iterable[int]) -> None:
    """Decide, after the receiver's transaction commits, what the alerts it stored page."""
    ids = sorted({alert_id for alert_id in alert_ids if alert_id is not None})
    if ids:
        enqueue_on_commit(PAGING_TASK, ids)


def policy_for(team: Team) -> PagingPolicy:
    """The team's paging policy; the default (critical pages) when nobody edited it."""
    policy = PagingPolicy.objects.filter(team=team).first()
    return policy if policy is not None else PagingPolicy(team=team)


@transaction.atomic
def update_policy(*, team: Team, rules: list, grouping_window_minutes: int | None = None) -> PagingPolicy:
    """Replace a team's paging rules; RuleError (naming the rule) when one does not parse."""
    parsed = paging_rules.parse_rules(rules)
    policy, _ = PagingPolicy.objects.select_for_update().get_or_create(team=team)
    before = audit.values(policy, ["rules", "grouping_window_minutes"])
    policy.rules = paging_rules.rules_as_data(parsed)
    if grouping_window_minutes is not None:
        policy.grouping_window_minutes = grouping_window_minutes
    policy.save()
    audit.record_changes(
        policy, before=before, after=audit.values(policy, ["rules", "grouping_window_minutes"])
    )
    return policy


def alert_fields(alert: Alert) -> dict[str, str]:
    return paging_rules.alert_fields(
        check=alert.check_name,
        host=alert.host,
        state=alert.state,
        severity=alert.severity,
        labels=alert.labels if isinstance(alert.labels, dict) else {},
    )


def in_maintenance(*, team_id: int, check: str, at: dt.datetime) -> MaintenanceWindow | None:
    """The maintenance window of the team covering a check at an instant, if any."""
    windows = MaintenanceWindow.objects.filter(team_id=team_id).covering(at)
    return next(
        (window for window in windows if paging_rules.check_matches(window.check_pattern, check)), None
    )


def _message(alert: Alert) -> str:
    where = f" on {alert.host}" if alert.host else ""
    severity = f" ({alert.severity})" if alert.severity else ""
    summary = f": {alert.summary}" if alert.summary else ""
    return f"{alert.check_name}{where}{severity}{summary}"[:2000]


def _page_to_attach(alert: Alert, team_id: int, window: dt.timedelta) -> Page | None:
    """The team's unresolved page this alert belongs to: a repeat of one on it, or its check soon after."""
    attached = Alert.objects.filter(page__team_id=team_id).exclude(page__status=PageStatus.RESOLVED)
    same = attached.filter(source=alert.source, identity=alert.identity).select_related("page").first()
    if same is None:
        same = (
            attached.filter(
                check_name=alert.check_name,
                fired_at__gte=alert.fired_at - window,
                fired_at__lte=alert.fired_at + window,
            )
            .select_related("page")
            .order_by("-fired_at")
            .first()
        )
    return same.page if same is not None else None


@transaction.atomic
def decide_paging(*, alert_ids: list[int], now: dt.datetime | None = None) -> list[Page]:
    """Page, attach, record or set aside each stored alert; resolve pages whose alerts all resolved.

    Idempotent: an alert already decided is not decided again, so a repeated
    task opens nothing twice. Returns the pages opened.
    """
    now = now or timezone.now()
    team_ids = sorted(
        set(Alert.objects.filter(pk__in=alert_ids, team__isnull=False).values_list("team_id", flat=True))
    )
    # Teams locked in id order, so two batches never wait on each other in a cycle.
    list(Team.objects.select_for_update().filter(pk__in=team_ids).order_by("pk").values_list("pk"))
    alerts = list(
        Alert.objects.filter(pk__in=alert_ids)
        .select_related("team", "alert_source")
        .order_by("fired_at", "id")
    )
    heartbeats: dict[tuple[int | None, str], Heartbeat] = {
        (heartbeat.alert_source_id, heartbeat.check_name): heartbeat
        for heartbeat in Heartbeat.objects.select_for_update().filter(
            alert_source_id__in={alert.alert_source_id for alert in alerts if alert.alert_source_id}
        )
    }
    policies: dict[int, PagingPolicy] = {}
    opened: list[Page] = []
    touched: set[int] = set()
    for alert in alerts:
        heartbeat = heartbeats.get((alert.alert_source_id, alert.check_name))
        if heartbeat is not None:
            _beat(heartbeat, alert, now)
            continue
        if alert.paging == PagingDecision.UNDECIDED:
            team = alert.team
            if team is not None and team.pk not in policies:
                policies[team.pk] = policy_for(team)
            page, is_new = _decide(alert, policies[team.pk] if team is not None else None, now)
            if page is not None and is_new:
                opened.append(page)
        if alert.page_id is not None:
            touched.add(alert.page_id)
    for page in Page.objects.unresolved().filter(pk__in=touched):
        if not page.alerts.filter(resolved_at__isnull=True).exists():
            resolve_page(page=page, now=now)
    if any(alert.resolved_at is not None for alert in alerts):
        # Their silences in Alertmanager (alerts_review.silences) end with them.
        pending = AlertSilence.objects.filter(page_id__in=touched, expired_at__isnull=True)
        for page_id in sorted(set(pending.values_list("page_id", flat=True))):
            enqueue_on_commit(EXPIRE_SILENCES_TASK, page_id)
    return opened


def _decide(alert: Alert, policy: PagingPolicy | None, now: dt.datetime) -> tuple[Page | None, bool]:
    """Decide one undecided alert (its team locked): (the page it opened or joined, whether it opened it)."""
    decision = PagingDecision.RECORDED
    page = None
    is_new = False
    if alert.team_id is not None and in_maintenance(
        team_id=alert.team_id, check=alert.check_name, at=alert.fired_at
    ):
        # Whether it already resolved or not: it is kept out of the review queue either way.
        decision = PagingDecision.MAINTENANCE
    elif (
        policy is not None
        and alert.team is not None
        and alert.resolved_at is None
        and not alert.is_test
        and paging_rules.decide(policy.parsed_rules(), alert_fields(alert)) == "page"
    ):
        decision = PagingDecision.PAGED
        page = _page_to_attach(alert, alert.team.pk, policy.grouping_window)
        if page is None:
            page = page_team(team=alert.team, message=_message(alert), now=now)
            is_new = True
    alert.paging = decision
    alert.page = page
    Alert.objects.filter(pk=alert.pk).update(paging=decision, page=page)
    return page, is_new


def _beat(heartbeat: Heartbeat, alert: Alert, now: dt.datetime) -> None:
    """A heartbeat arrived: it is not an alert to review, and it ends a 'monitoring is silent' page."""
    if alert.paging != PagingDecision.HEARTBEAT:
        Alert.objects.filter(pk=alert.pk).update(paging=PagingDecision.HEARTBEAT)
    if alert.resolved_at is not None:
        return  # the Watchdog resolving is its silence, not a beat
    heartbeat.last_seen_at = max(heartbeat.last_seen_at or now, now)
    page = heartbeat.page
    heartbeat.page = None
    heartbeat.save(update_fields=["last_seen_at", "page"])
    if page is not None:
        resolve_page(page=page, now=now)


@transaction.atomic
def check_heartbeat(*, heartbeat_id: int, now: dt.datetime | None = None) -> Page | None:
    """Page the source's team when its heartbeat went silent (once); resolve that page when it beats again."""
    now = now or timezone.now()
    heartbeat = (
        Heartbeat.objects.select_for_update(of=("self",))
        .select_related("alert_source__team", "page")
        .filter(pk=heartbeat_id)
        .first()
    )
    if heartbeat is None:
        return None
    silent_since = heartbeat.silent_since(now) if heartbeat.is_active else None
    page = heartbeat.page
    if silent_since is None:
        if page is not None:
            heartbeat.page = None
            heartbeat.save(update_fields=["page"])
            resolve_page(page=page, now=now)
        return None
    team = heartbeat.alert_source.team
    # One page per silence: resolved by hand, it is not sent again until the heartbeat has beaten.
    if team is None or page is not None:
        return None
    heartbeat.page = page_team(
        team=team,
        message=(
            f"Monitoring is silent: {heartbeat.check_name} from {heartbeat.alert_source.name} "
            f"has not arrived since {heartbeat.last_seen_at or heartbeat.created_at:%Y-%m-%d %H:%M} UTC."
        ),
        now=now,
    )
    heartbeat.save(update_fields=["page"])
    return heartbeat.page


def sweep_paging(*, now: dt.datetime | None = None) -> int:
    """The beat's safety net: lost paging decisions, silent heartbeats, pages whose alerts all resolved."""
    now = now or timezone.now()
    undecided = list(
        Alert.objects.filter(paging=PagingDecision.UNDECIDED, created_at__gte=now - UNDECIDED_HORIZON)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    opened = len(decide_paging(alert_ids=undecided, now=now)) if undecided else 0
    for heartbeat_id in Heartbeat.objects.filter(is_active=True).values_list("pk", flat=True):
        if check_heartbeat(heartbeat_id=heartbeat_id, now=now) is not None:
            opened += 1
    finished = (
        Page.objects.unresolved()
        .filter(alerts__isnull=False)
        .exclude(alerts__resolved_at__isnull=True)
        .distinct()
    )
    for page in finished:
        resolve_page(page=page, now=now)
    # Heartbeats switched off (or deleted sources) leave no silent page open.
    for heartbeat in Heartbeat.objects.filter(is_active=False, page__isnull=False).select_related("page"):
        check_heartbeat(heartbeat_id=heartbeat.pk, now=now)
    return opened


@transaction.atomic
def create_maintenance_window(
    *,
    team: Team,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    check_pattern: str = "*",
    created_by: User | None = None,
) -> MaintenanceWindow:
    """Plan a span when a team's alerts on matching checks are stored and never page."""
    if ends_at <= starts_at:
        raise ValueError("A maintenance window ends after it starts.")
    return MaintenanceWindow.objects.create(
        team=team,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        check_pattern=check_pattern or "*",
        created_by=created_by,
    )


@transaction.atomic
def end_maintenance_window(*, window: MaintenanceWindow, now: dt.datetime | None = None) -> MaintenanceWindow:
    """End a window now (one not begun yet ends where it starts: it never happens)."""
    now = now or timezone.now()
    if window.ends_at > now:
        window.ends_at = max(now, window.starts_at + dt.timedelta(seconds=1))
        window.save(update_fields=["ends_at"])
    return window


def suggested_category(alert: Alert, windows: Iterable[MaintenanceWindow] | None = None) -> str | None:
    """downtime-expired for an alert on a check within an hour after a maintenance window on it ended.

    `windows` are the team's windows that may have ended then (recent_windows); read when not given.
    """
    if alert.team_id is None or alert.paging in (PagingDecision.MAINTENANCE, PagingDecision.HEARTBEAT):
        return None
    if windows is None:
        windows = recent_windows(team_id=alert.team_id, since=alert.fired_at, until=alert.fired_at)
    for window in windows:
        soon_after = window.ends_at <= alert.fired_at < window.ends_at + DOWNTIME_EXPIRED_WITHIN
        same_check = paging_rules.check_matches(window.check_pattern, alert.check_name)
        if window.team_id == alert.team_id and soon_after and same_check:
            return DOWNTIME_EXPIRED
    return None


def recent_windows(*, team_id: int, since: dt.datetime, until: dt.datetime) -> list[MaintenanceWindow]:
    """A team's windows that ended up to an hour before a span of alerts, or inside it."""
    return list(
        MaintenanceWindow.objects.filter(
            team_id=team_id, ends_at__gt=since - DOWNTIME_EXPIRED_WITHIN, ends_at__lte=until
        )
    )


def maintenance_filter() -> Q:
    """Alerts the review queue leaves out: stored during maintenance, and heartbeats."""
    return Q(paging__in=[PagingDecision.MAINTENANCE, PagingDecision.HEARTBEAT])
