"""Demo alerts for `seed_demo`: three months of them for the demo teams. Idempotent.

A few noisy checks fire every night; most alerts are classified, the last few
days' are not (so the review page has work). Who was paged comes from the
on-call shifts that exist (oncall.demo runs first); alerts stored before any
shifts existed get their paged person on the next run. Each team's review of
last month acts on its top recommendations (remediation items on the board).
"""

import datetime as dt
import random

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from morgue.models import Team
from oncall.models import Page, PageStep, Shift
from oncall.services import page_team, resolve_page

from . import paging_rules
from .models import (
    Alert,
    AlertReview,
    AlertSource,
    Category,
    Heartbeat,
    MaintenanceWindow,
    PagingDecision,
    PagingPolicy,
    SourceKind,
)
from .services import OnCallLookup, act_on_recommendation, reset_source_token

DAYS = 91
UNCLASSIFIED_DAYS = 3

# (team, source kind, check, hosts, alerts a day, hours it fires (UTC), categories with weights)
CHECKS = [
    (
        "ops",
        "alertmanager",
        "DiskSpaceLow",
        ["db12", "db14", "db15"],
        4.0,
        range(1, 5),
        {"threshold": 8, "issue": 1, "na": 1},
    ),
    (
        "ops",
        "alertmanager",
        "MySQLReplicationLag",
        ["db14", "db15"],
        3.0,
        range(2, 4),
        {"timeperiod": 6, "downtime-not-set": 2, "issue-timeperiod": 1},
    ),
    (
        "ops",
        "nagios",
        "Apache Busy Workers",
        ["web041", "web042", "web043", "web044"],
        5.0,
        range(24),
        {"threshold": 4, "issue": 3, "view-issue": 1},
    ),
    ("ops", "nagios", "NTP Drift", ["web041", "db12"], 2.5, range(24), {"check-faulty": 7, "na": 1}),
    (
        "ops",
        "alertmanager",
        "HostDown",
        ["web041", "db12", "lb1"],
        0.6,
        range(24),
        {"issue": 5, "view-issue": 2, "downtime-expired": 2},
    ),
    (
        "payments",
        "grafana",
        "CheckoutErrorRate",
        ["checkout"],
        3.0,
        range(12, 23),
        {"issue": 5, "view-issue": 2, "threshold": 2},
    ),
    (
        "payments",
        "grafana",
        "PaymentGatewayLatency",
        ["gateway-a", "gateway-b"],
        5.0,
        range(24),
        {"threshold": 6, "issue": 1, "check-faulty": 1},
    ),
    (
        "payments",
        "alertmanager",
        "SettlementBatchLate",
        ["batch1"],
        2.0,
        range(3, 6),
        {"timeperiod": 5, "issue-timeperiod": 2},
    ),
    (
        "dev",
        "alertmanager",
        "QueueBacklog",
        ["worker1", "worker2", "worker3"],
        6.0,
        range(0, 6),
        {"downtime-not-set": 3, "timeperiod": 3, "issue": 1},
    ),
    ("dev", "alertmanager", "DeployCanaryFailed", ["canary"], 2.5, range(13, 22), {"issue": 8, "na": 1}),
    (
        "dev",
        "alertmanager",
        "HTTP5xxRate",
        ["api1", "api2"],
        4.0,
        range(24),
        {"issue": 3, "threshold": 3, "view-issue": 1},
    ),
    (
        "support",
        "alertmanager",
        "TicketQueueAge",
        ["helpdesk"],
        3.0,
        range(13, 21),
        {"issue": 4, "threshold": 3, "na": 1},
    ),
    (
        "support",
        "alertmanager",
        "MailRelayDeferred",
        ["mx1", "mx2"],
        2.0,
        range(24),
        {"check-faulty": 3, "issue": 2, "downtime-expired": 1},
    ),
]

SOURCES = {
    "alertmanager": ("demo-alertmanager", SourceKind.ALERTMANAGER),
    "grafana": ("demo-grafana", SourceKind.GRAFANA),
    "nagios": ("demo-nagios", SourceKind.NAGIOS),
}


def seed(stdout=None) -> None:
    teams = {team.slug: team for team in Team.objects.filter(slug__in={check[0] for check in CHECKS})}
    if not teams:
        return
    sources = {
        kind: AlertSource.objects.get_or_create(name=name, defaults={"kind": source_kind})[0]
        for kind, (name, source_kind) in SOURCES.items()
    }
    demo_alerts = Alert.objects.filter(alert_source__in=sources.values())
    if demo_alerts.exists():
        fill_in_paged(demo_alerts.filter(paged__isnull=True), stdout)
    else:
        alerts = build_alerts(teams, sources)
        Alert.objects.bulk_create(alerts, batch_size=1000)
        if stdout:
            stdout.write(f"Alerts review: {len(alerts)} demo alerts over {DAYS} days.")
    decide_last_month(teams.values(), stdout)
    seed_paging(teams, sources, stdout)
    if stdout:
        show_sender_examples(sources, stdout)


# Which receiver each demo source sends to (alerts_review/urls.py).
RECEIVERS = {
    "alertmanager": "alerts-alertmanager",
    "grafana": "alerts-alertmanager",
    "nagios": "alerts-nagios",
}


def show_sender_examples(sources: dict[str, AlertSource], stdout) -> None:
    """Print each demo source's receiver address with a fresh token.

    Only a hash of a token is stored, so the demo cannot show the token of an
    earlier run: each run gives the demo sources new ones, and the old stop working.
    """
    for kind, source in sources.items():
        token = reset_source_token(source=source).token
        url = f"{settings.MORGUE_BASE_URL}{reverse(f'api:{RECEIVERS[kind]}')}"
        stdout.write(f"Alerts review: {source.name} sends to {url} with 'Authorization: Bearer {token}'")


# Recommendations each team's demo review of last month turned into remediation items.
DECISIONS_PER_TEAM = 2


def decide_last_month(teams, stdout=None) -> None:
    """Each team's review of last month acts on its noisiest recommendations, once."""
    from .selectors import monthly_report

    first = timezone.localdate().replace(day=1)
    month = (first - dt.timedelta(days=1)).replace(day=1)
    rng = random.Random(42)
    made = 0
    for team in sorted(teams, key=lambda team: team.slug):
        members = list(team.members.filter(is_active=True).order_by("username"))
        if not members or AlertReview.objects.filter(team=team, month=month, actions__isnull=False).exists():
            continue
        for recommendation in monthly_report(month=month, team=team)["recommendations"][:DECISIONS_PER_TEAM]:
            act_on_recommendation(
                team=team,
                month=month,
                check=recommendation["check"],
                reason=recommendation["reason"],
                summary=f"{recommendation['check']}: {recommendation['detail']}"[:300],
                track="dev" if team.slug == "dev" else "ops",
                by=members[0],
                owner=rng.choice(members),
            )
            made += 1
    if made and stdout:
        stdout.write(f"Alerts review: {made} decisions of last month's reviews are remediation items.")


def build_alerts(teams: dict[str, Team], sources: dict[str, AlertSource]) -> list[Alert]:
    rng = random.Random(42)
    categories = {category.slug: category for category in Category.objects.all()}
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    first_day = (now - dt.timedelta(days=DAYS)).replace(hour=0)
    alerts: list[Alert] = []
    for team_slug, kind, check, hosts, per_day, hours, _weights in CHECKS:
        team = teams.get(team_slug)
        if team is None:
            continue
        usual_hours = list(hours)
        for day in range(DAYS + 1):
            # Whole alerts a day around the rate, fired at the check's usual hours.
            for _ in range(_how_many(rng, per_day)):
                fired_at = first_day + dt.timedelta(
                    days=day,
                    hours=rng.choice(usual_hours),
                    minutes=rng.randrange(60),
                    seconds=rng.randrange(60),
                )
                if fired_at >= now:
                    continue
                host = rng.choice(hosts)
                alerts.append(
                    Alert(
                        source=kind,
                        alert_source=sources[kind],
                        identity=f"demo/{team_slug}/{check}/{host}",
                        check_name=check,
                        host=host,
                        state="resolved",
                        severity=rng.choice(["warning", "critical"]),
                        labels={"alertname": check, "instance": host, "team": team_slug},
                        summary=f"{check} on {host}",
                        fired_at=fired_at,
                        resolved_at=fired_at + dt.timedelta(minutes=rng.randrange(2, 90)),
                        team=team,
                    )
                )
    alerts = list({(alert.source, alert.identity, alert.fired_at): alert for alert in alerts}.values())
    _page(alerts)
    weights_by_check = {check: weights for _, _, check, _, _, _, weights in CHECKS}
    recent = now - dt.timedelta(days=UNCLASSIFIED_DAYS)
    for alert in alerts:
        if alert.fired_at >= recent or rng.random() < 0.12:
            continue
        weights = weights_by_check[alert.check_name]
        slug = rng.choices(list(weights), weights=list(weights.values()))[0]
        alert.category = categories.get(slug)
        alert.classified_by = alert.paged
        alert.classified_at = alert.fired_at + dt.timedelta(days=1)
        alert.woke_me_up = alert.out_of_hours and rng.random() < 0.6
    return alerts


def _how_many(rng: random.Random, rate: float) -> int:
    whole = int(rate)
    return whole + (1 if rng.random() < rate - whole else 0) + rng.choice([-1, 0, 0, 1]) * (whole > 1)


def _page(alerts: list[Alert]) -> None:
    """Set who was paged and whether it was out of hours, from the shifts that exist."""
    if not alerts:
        return
    lookup = OnCallLookup(
        team_ids={alert.team_id for alert in alerts if alert.team_id},
        instants=[alert.fired_at for alert in alerts],
    )
    for alert in alerts:
        alert.paged, alert.out_of_hours = lookup.paged(alert.team, alert.fired_at)


def fill_in_paged(alerts, stdout=None) -> None:
    """Demo alerts stored before the on-call demo existed get their paged person now."""
    if not Shift.objects.filter(rotation__team__alerts__in=alerts).exists():
        return
    pending = list(alerts.select_related("team"))
    _page(pending)
    paged = [alert for alert in pending if alert.paged_id]
    Alert.objects.bulk_update(paged, ["paged", "out_of_hours"], batch_size=1000)
    if paged and stdout:
        stdout.write(f"Alerts review: {len(paged)} demo alerts now know who was paged.")


# --- Paging ---------------------------------------------------------------------------------

# Ops records its staging alerts before the default rules page what is critical.
OPS_RULES = [{"match": ["env=staging"], "action": "record"}, *paging_rules.DEFAULT_RULES]
PAGES_FROM_ALERTS = 3


@transaction.atomic
def seed_paging(teams: dict[str, Team], sources: dict[str, AlertSource], stdout=None) -> None:
    """A policy per team, one past maintenance window, a paused Watchdog heartbeat, and pages from alerts.

    Everything is settled: the pages opened from alerts are resolved and their
    notices counted as sent, and the heartbeat is paused (no Alertmanager sends
    the demo its Watchdog), so nothing pages or emails anyone after `make run`.
    """
    for slug, team in teams.items():
        PagingPolicy.objects.get_or_create(
            team=team, defaults={"rules": OPS_RULES if slug == "ops" else paging_rules.DEFAULT_RULES}
        )
    Heartbeat.objects.get_or_create(
        alert_source=sources["alertmanager"],
        check_name="Watchdog",
        defaults={"interval_minutes": 5, "grace_minutes": 10, "is_active": False},
    )
    undecided = Alert.objects.filter(alert_source__in=sources.values(), paging=PagingDecision.UNDECIDED)
    if not undecided.exists():
        return
    now = timezone.now()
    ops = teams.get("ops")
    window = None
    if ops is not None and not MaintenanceWindow.objects.filter(team=ops).exists():
        starts = (now - dt.timedelta(days=6)).replace(hour=1, minute=0, second=0, microsecond=0)
        window = MaintenanceWindow.objects.create(
            team=ops,
            check_pattern="MySQL*",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            reason="MySQL 8.4 upgrade on db14 and db15",
            created_at=starts - dt.timedelta(days=1),
        )
    policies = {
        policy.team_id: policy.parsed_rules()
        for policy in PagingPolicy.objects.filter(team__in=teams.values())
    }
    alerts = list(undecided)
    for alert in alerts:
        if (
            window is not None
            and alert.team_id == window.team_id
            and window.covers(check=alert.check_name, at=alert.fired_at)
        ):
            alert.paging = PagingDecision.MAINTENANCE
            continue
        fields = paging_rules.alert_fields(
            check=alert.check_name,
            host=alert.host,
            state=alert.state,
            severity=alert.severity,
            labels=alert.labels,
        )
        # The demo's alerts are stored resolved; what they would have done when they fired.
        fields["state"] = "firing"
        rules = policies.get(alert.team_id or 0, [])
        alert.paging = (
            PagingDecision.PAGED if paging_rules.decide(rules, fields) == "page" else PagingDecision.RECORDED
        )
    Alert.objects.bulk_update(alerts, ["paging"], batch_size=1000)
    # The latest few critical alerts opened pages, which resolved with them.
    opened = 0
    latest = Alert.objects.filter(pk__in=[alert.pk for alert in alerts], paging=PagingDecision.PAGED)
    for alert in latest.select_related("team").order_by("-fired_at")[:PAGES_FROM_ALERTS]:
        if alert.team is None or alert.resolved_at is None:
            continue
        page = page_team(
            team=alert.team,
            message=f"{alert.check_name} on {alert.host} ({alert.severity})",
            now=alert.fired_at,
        )
        Alert.objects.filter(pk=alert.pk).update(page=page)
        PageStep.objects.filter(page=page, user__isnull=False).update(notified_at=alert.fired_at)
        resolve_page(page=page, now=alert.resolved_at)
        Page.objects.filter(pk=page.pk).update(resolution_notified_at=alert.resolved_at)
        opened += 1
    if stdout:
        stdout.write(
            f"Paging: {len(alerts)} demo alerts decided, {opened} pages opened and resolved, "
            f"{'one maintenance window' if window else 'no new window'}."
        )
