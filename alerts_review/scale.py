"""A large organisation's alerts for `seed_scale`: two years of them over hundreds of checks, noisy and quiet.

Who was paged and whether it woke them come from the on-call shifts
(oncall/scale.py runs first), through the same lookup ingest uses. The
counts the monthly report reads (AlertDayCount, AlertHourCount) are
kept by their triggers as the rows go in.
"""

import datetime as dt
import itertools

from django.db import connection

from morgue.models import Team
from morgue.scale import anchor, rng_for, scaled

from .models import ALERT_DAY_COUNTS, ALERT_HOUR_COUNTS, Alert, AlertSource, Category, SourceKind
from .services import OnCallLookup

ALERTS = 1_000_000
CHECKS = 800
DAYS = 730
UNCLASSIFIED_DAYS = 3
BATCH = 5_000

SUBJECTS = [
    "Disk", "Cpu", "Memory", "Replication", "Queue", "Http5xx", "Latency", "Certificate", "Backup",
    "Cron", "Inode", "Connection", "Heap", "Gc", "Kafka", "Redis", "Mysql", "Nginx", "Dns", "Ntp",
]  # fmt: skip
CONDITIONS = [
    "High",
    "Low",
    "Stalled",
    "Failing",
    "Flapping",
    "Saturated",
    "Lagging",
    "Expiring",
    "Down",
    "Slow",
]
SOURCES = [
    ("scale-alertmanager", SourceKind.ALERTMANAGER),
    ("scale-grafana", SourceKind.GRAFANA),
    ("scale-nagios", SourceKind.NAGIOS),
]


def check_names(count: int) -> list[str]:
    """`count` distinct check names (subject, condition, a service suffix), in a fixed shuffled order."""
    suffixes = ["", "Checkout", "Search", "Api", "Batch"]
    names = [
        f"{subject}{condition}{suffix}"
        for suffix, subject, condition in itertools.product(suffixes, SUBJECTS, CONDITIONS)
    ]
    rng_for("checks").shuffle(names)
    names += [f"Custom{n}" for n in range(count - len(names))]
    return names[:count]


def seed(scale: float, stdout=None) -> None:
    rng = rng_for("alerts")
    now = anchor()
    teams = list(Team.objects.order_by("pk"))
    sources = [AlertSource.objects.create(name=name, kind=kind) for name, kind in SOURCES]
    categories = list(Category.objects.order_by("position", "pk"))
    count = scaled(ALERTS, scale, minimum=100)
    names = check_names(scaled(CHECKS, scale, minimum=8))
    # A few checks are most of the noise (Zipf-like); each check belongs to one team, noisy teams own more.
    team_weights = [1 / (index + 1) ** 0.8 for index in range(len(teams))]
    checks = [
        (
            name,
            rng.choices(teams, weights=team_weights)[0],
            rng.choice(sources),
            [f"{name.lower()[:8]}-{host:02d}" for host in range(rng.randint(1, 12))],
        )
        for name in names
    ]
    cumulative = list(itertools.accumulate(1 / (index + 1) for index in range(len(checks))))
    # Each check is usually classified the same way.
    usual = {name: rng.choice(categories) for name in names}
    span = dt.timedelta(days=DAYS)
    recent = now - dt.timedelta(days=UNCLASSIFIED_DAYS)
    for first in range(0, count, BATCH):
        numbers = range(first, min(first + BATCH, count))
        picked = rng.choices(checks, cum_weights=cumulative, k=len(numbers))
        batch = []
        for number, (name, team, source, hosts) in zip(numbers, picked, strict=True):
            fired_at = now - span + span * (number + rng.random()) / count
            host = rng.choice(hosts)
            batch.append(
                Alert(
                    source=source.kind,
                    alert_source=source,
                    identity=f"{name}/{host}/{number}",
                    check_name=name,
                    host=host,
                    state="resolved",
                    severity=rng.choice(["warning", "warning", "critical"]),
                    labels={"alertname": name, "instance": f"{host}:9100", "team": team.slug},
                    summary=f"{name} on {host}",
                    fired_at=fired_at,
                    resolved_at=fired_at + dt.timedelta(minutes=rng.randint(2, 120)),
                    team=team,
                )
            )
        lookup = OnCallLookup(
            team_ids={team.pk for team in teams}, instants=[alert.fired_at for alert in batch]
        )
        for alert in batch:
            alert.paged, alert.out_of_hours = lookup.paged(alert.team, alert.fired_at)
            if alert.fired_at < recent and rng.random() < 0.85:
                alert.category = usual[alert.check_name] if rng.random() < 0.8 else rng.choice(categories)
                alert.classified_by = alert.paged
                alert.classified_at = alert.fired_at + dt.timedelta(days=1)
                alert.woke_me_up = alert.out_of_hours and rng.random() < 0.6
        Alert.objects.bulk_create(batch, batch_size=BATCH)
    # Triggers kept the counts as the rows went in; fold their deltas in, as beat would,
    # and recount any that disagree (and say so).
    for counts in (ALERT_DAY_COUNTS, ALERT_HOUR_COUNTS):
        counts.compact(connection)
        if counts.ensure(connection) and stdout is not None:
            stdout.write(f"alerts: {counts.table} was recounted")
    if stdout is not None:
        stdout.write(f"alerts: {count} alerts over {len(checks)} checks and {DAYS} days")
