"""Demo evidence for `seed_demo`: a year of deploys, linked deploys and a few stored graphs. Idempotent.

Runs after incidents.demo; with no incidents it still loads the deploy log.
No network: the graph images are drawn here.
"""

import datetime as dt
import itertools
import math
import random
import struct
import zlib

from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from . import graphite
from .models import PRODUCTION, Deploy, EventKind, GraphSnapshot, Incident, SnapshotStatus, TimelineEvent
from .services.deploy import link_deploy, record_deploy
from .services.graph import incident_window

STACKS = [("web", 6), ("web_config", 3), ("search", 2), ("api", 2), ("payments", 1)]
ENVIRONMENTS = [(PRODUCTION, 7), ("staging", 2), ("qa", 1)]
DEPLOYERS = [
    "alice",
    "bharat",
    "chen",
    "nadia",
    "oscar",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tariq",
    "uma",
    "wen",
]
MESSAGES = [
    "listing page tweaks",
    "config: raise search timeout",
    "checkout copy change",
    "ramp new recommendations to 10%",
    "fix n+1 on shop page",
    "bump image resizer",
    "",
    "",
]
DEMO_LOG_URL = "https://deploy.example.com/log/"


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in weighted], weights=[weight for _, weight in weighted])[0]


def _revision(rng: random.Random) -> str:
    return f"{rng.getrandbits(40):010x}"


def demo_deploys(*, today: dt.date, rng: random.Random) -> list[Deploy]:
    """About 1,500 deploys over the year before `today`: a few per working hour on weekdays."""
    revisions = {stack: _revision(rng) for stack, _ in STACKS}
    deploys: list[Deploy] = []
    for offset in range(365, 0, -1):
        day = today - dt.timedelta(days=offset)
        weekend = day.weekday() >= 5
        # Weekdays: a few in working hours; weekends: now and then a fix.
        count = (rng.choice([1, 2]) if rng.random() < 0.1 else 0) if weekend else rng.randint(3, 9)
        minutes = sorted(rng.randint(9 * 60, 18 * 60) for _ in range(count))
        for minute in minutes:
            stack = _pick(rng, STACKS)
            old, new = revisions[stack], _revision(rng)
            revisions[stack] = new
            started_at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
                minutes=minute, seconds=rng.randint(0, 59)
            )
            number = len(deploys) + 1
            deploys.append(
                Deploy(
                    stack=stack,
                    environment=_pick(rng, ENVIRONMENTS),
                    deployer=rng.choice(DEPLOYERS),
                    old_revision=old,
                    new_revision=new,
                    started_at=started_at,
                    finished_at=started_at + dt.timedelta(seconds=rng.randint(60, 900)),
                    diff_url=f"https://github.example.com/etsy/{stack}/compare/{old}...{new}",
                    log_url=f"{DEMO_LOG_URL}{number}",
                    message=rng.choice(MESSAGES),
                )
            )
    return deploys


def render_graph_png(values: list[float], *, width: int = 480, height: int = 160, band=None) -> bytes:
    """A small line graph as a PNG (standard library only): grey grid, shaded band, blue line."""
    background, grid, shade, line = (255, 255, 255), (225, 225, 225), (255, 228, 225), (31, 119, 180)
    pixels = [[background] * width for _ in range(height)]
    if band is not None:
        for y in range(height):
            for x in range(int(band[0] * width), int(band[1] * width)):
                pixels[y][x] = shade
    for y in range(0, height, 40):
        pixels[y] = [grid if pixel == background else pixel for pixel in pixels[y]]
    top = max(values) or 1
    points = [
        (round(index * (width - 1) / (len(values) - 1)), height - 1 - round(value / top * (height - 10)))
        for index, value in enumerate(values)
    ]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for step in range(steps + 1):
            x = x0 + (x1 - x0) * step // steps
            y = y0 + (y1 - y0) * step // steps
            for dy in (0, 1):
                if 0 <= y + dy < height:
                    pixels[y + dy][x] = line
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _error_rate(rng: random.Random) -> list[float]:
    """Two hours of a 5xx rate with a spike in the middle third."""
    return [
        max(0.0, 2 + rng.random() + (40 * math.sin(math.pi * (i - 40) / 40) if 40 <= i < 80 else 0))
        for i in range(120)
    ]


def _link_deploy_related_incidents(rng: random.Random) -> list[Incident]:
    incidents = list(
        Incident.objects.visible()
        .filter(Q(title__icontains="deploy") | Q(what_happened__icontains="deploy") | Q(tags__name="deploy"))
        .distinct()
        .order_by("impact_started_at")[:20]
    )
    for incident in incidents:
        started_at = incident.impact_started_at - dt.timedelta(minutes=rng.randint(3, 25))
        deploy, _ = record_deploy(
            stack=incident.affected_service or "web",
            environment=PRODUCTION,
            deployer=rng.choice(DEPLOYERS),
            old_revision=_revision(rng),
            new_revision=_revision(rng),
            started_at=started_at.replace(microsecond=0),
            finished_at=started_at.replace(microsecond=0) + dt.timedelta(minutes=4),
            message="the change that preceded this incident",
        )
        link_deploy(incident=incident, deploy=deploy)
    return incidents


def _add_snapshots(incidents: list[Incident], rng: random.Random) -> int:
    added = 0
    now = timezone.now()
    for incident in incidents[:3]:
        title = "5xx errors per minute (web)"
        if incident.graph_snapshots.filter(title=title).exists():
            continue
        url = "http://graphite.internal/render?target=sumSeries(stats.web.*.http_5xx)&from=-2h&format=png"
        start, end = incident_window(incident, now=now)
        event = TimelineEvent.objects.create(
            incident=incident,
            occurred_at=incident.detected_at,
            kind=EventKind.GRAPH,
            text=f"Graph: {title}",
            link=url,
        )
        snapshot = GraphSnapshot(
            incident=incident,
            title=title,
            url=url,
            fetch_url=graphite.pin_to_window(url, start=start, end=end),
            status=SnapshotStatus.CAPTURED,
            content_type="image/png",
            fetched_at=now,
            pinned_at=incident.detected_at,
            event=event,
        )
        snapshot.save()
        content = render_graph_png(_error_rate(rng), band=(1 / 3, 2 / 3))
        snapshot.image.save(f"demo-{snapshot.pk}.png", ContentFile(content), save=False)
        snapshot.size = len(content)
        snapshot.save()
        added += 1
    return added


def seed(stdout=None) -> None:
    rng = random.Random(42)
    created = 0
    if not Deploy.objects.filter(log_url__startswith=DEMO_LOG_URL).exists():
        deploys = demo_deploys(today=timezone.localdate(timezone.now(), dt.UTC), rng=rng)
        created = len(Deploy.objects.bulk_create(deploys, batch_size=500, ignore_conflicts=True))
    incidents = _link_deploy_related_incidents(random.Random(43))
    snapshots = _add_snapshots(incidents or list(Incident.objects.visible()[:2]), random.Random(44))
    if stdout is not None:
        stdout.write(
            f"Evidence: {created} deploys added, {len(incidents)} deploy-related incidents linked, "
            f"{snapshots} graph snapshots stored."
        )
