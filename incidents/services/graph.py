import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from morgue.exceptions import MorgueError
from morgue.tasking import enqueue, enqueue_on_commit

from .. import grafana, graphite
from ..fetch import MAX_BYTES, FetchError, Image, check_image, fetch_image
from ..models import EventKind, GraphSnapshot, Incident, SnapshotStatus, TimelineEvent

logger = logging.getLogger(__name__)

# Margin around the incident so the picture shows the "before" and "after".
WINDOW_MARGIN = dt.timedelta(minutes=30)
# A pending snapshot older than this has lost its task; after this many attempts it is given up.
LOST_AFTER = dt.timedelta(minutes=10)
MAX_ATTEMPTS = 8
# Enqueued by name: tasks import services, never the other way round.
CAPTURE_TASK = "incidents.tasks.graph.capture_graph"


def allowed_hosts() -> frozenset[str]:
    return frozenset(host.lower() for host in settings.GRAPH_FETCH_ALLOWED_HOSTS)


def incident_window(incident: Incident, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Impact start minus 30 minutes to resolution plus 30 minutes (or now while unresolved)."""
    start = incident.impact_started_at - WINDOW_MARGIN
    end = incident.resolved_at + WINDOW_MARGIN if incident.resolved_at else now
    return start, min(end, now)


def _store_image(snapshot: GraphSnapshot, image: Image, *, now: dt.datetime) -> None:
    snapshot.image.save(f"snapshot-{snapshot.pk}.{image.extension}", ContentFile(image.content), save=False)
    snapshot.content_type = image.content_type
    snapshot.size = len(image.content)
    snapshot.fetched_at = now
    snapshot.status = SnapshotStatus.CAPTURED
    snapshot.failure_reason = ""


@transaction.atomic
def add_graph_snapshot(
    *,
    incident: Incident,
    title: str,
    url: str = "",
    upload: "UploadedFile[bytes] | None" = None,  # the stubs make File generic; Django does not
    pinned_at: dt.datetime | None = None,
    user: User | None = None,
) -> GraphSnapshot:
    """Record a graph on the incident: an uploaded image is checked and kept now, a URL is fetched later."""
    if not url and upload is None:
        raise MorgueError("Give the graph's URL or upload its image.", field="url")
    now = timezone.now()
    author = user if user is not None and user.is_authenticated else None
    fetch_url = ""
    if url:
        start, end = incident_window(incident, now=now)
        # Graphite and Grafana links are pinned to the incident window; other URLs are fetched as given.
        fetch_url = grafana.pin_to_window(
            graphite.pin_to_window(url, start=start, end=end), start=start, end=end
        )
    image = None
    if upload is not None:
        try:
            image = check_image(upload.read(MAX_BYTES + 1))
        except FetchError as error:
            raise MorgueError(error.reason, field="image") from error
    event = TimelineEvent.objects.create(
        incident=incident,
        occurred_at=pinned_at or incident.detected_at,
        kind=EventKind.GRAPH,
        text=f"Graph: {title}",
        link=url,
        author=author,
    )
    snapshot = GraphSnapshot.objects.create(
        incident=incident,
        title=title,
        url=url,
        fetch_url=fetch_url,
        pinned_at=pinned_at,
        event=event,
        created_by=author,
    )
    if image is not None:
        _store_image(snapshot, image, now=now)
        snapshot.save()
    else:
        enqueue_on_commit(CAPTURE_TASK, snapshot.pk)
    return snapshot


def _fail(snapshot_id: int, reason: str) -> GraphSnapshot | None:
    GraphSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.PENDING).update(
        status=SnapshotStatus.FAILED, failure_reason=reason[:500]
    )
    return GraphSnapshot.objects.filter(pk=snapshot_id).first()


def capture_graph_snapshot(*, snapshot_id: int, final_attempt: bool = True) -> GraphSnapshot | None:
    """Fetch a pending snapshot's image and keep it; transient failures are raised unless final."""
    # Claim one attempt; a snapshot no longer pending (captured, failed, deleted) is left alone.
    if not GraphSnapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.PENDING).update(
        attempts=F("attempts") + 1
    ):
        return None
    snapshot = GraphSnapshot.objects.get(pk=snapshot_id)
    # The network call happens outside any transaction: no lock is held for seconds.
    try:
        image = fetch_image(snapshot.fetch_url, allowed_hosts=allowed_hosts())
    except FetchError as error:
        if error.transient and not final_attempt:
            raise
        return _fail(snapshot_id, error.reason)
    with transaction.atomic():
        snapshot = GraphSnapshot.objects.select_for_update().get(pk=snapshot_id)
        if snapshot.status != SnapshotStatus.PENDING:
            return snapshot
        _store_image(snapshot, image, now=timezone.now())
        snapshot.save()
    return snapshot


def requeue_lost_snapshots(*, now: dt.datetime | None = None) -> list[int]:
    """Snapshots still pending long after they were added lost their task: enqueue them again, or give up."""
    now = now or timezone.now()
    lost = GraphSnapshot.objects.pending().exclude(fetch_url="").filter(created_at__lt=now - LOST_AFTER)
    GraphSnapshot.objects.filter(pk__in=lost.filter(attempts__gte=MAX_ATTEMPTS).values("pk")).update(
        status=SnapshotStatus.FAILED, failure_reason="The graph could not be fetched after several attempts."
    )
    requeued = []
    for snapshot_id in list(lost.filter(attempts__lt=MAX_ATTEMPTS).values_list("pk", flat=True)[:100]):
        try:
            enqueue(CAPTURE_TASK, snapshot_id)
        except Exception as error:  # noqa: BLE001 - the broker is down: the next sweep tries again
            logger.warning("could not enqueue graph snapshot %s: %s", snapshot_id, error)
            break
        requeued.append(snapshot_id)
    return requeued


@transaction.atomic
def pin_graph_snapshot(*, snapshot: GraphSnapshot, pinned_at: dt.datetime | None) -> GraphSnapshot:
    """Pin a snapshot to a timeline moment (None unpins it); its timeline entry moves with it."""
    snapshot.pinned_at = pinned_at
    snapshot.save(update_fields=["pinned_at"])
    if snapshot.event_id:
        TimelineEvent.objects.filter(pk=snapshot.event_id).update(
            occurred_at=pinned_at or snapshot.incident.detected_at
        )
    return snapshot
