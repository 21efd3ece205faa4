"""Silences in Alertmanager while someone works on a page: created on acknowledging, expired on resolving.

oncall's acknowledge enqueues `alerts_review.tasks.silence_for_page` by name
(oncall sits below alerts_review); paging and `resolve_page` enqueue
`expire_silences` the same way. Each alert of the page whose source has an
Alertmanager URL gets one AlertSilence row, claimed before any HTTP call: a
task run twice finds the row; one retried after a timeout (the silence may
exist without Morgue knowing its id) first looks for it by its comment and
matchers. The silence ends a bounded horizon after now; the beat's sweep moves
the end on while the alert still fires.

Alertmanager sends no resolution for a silenced alert (it mutes the
notification), so the beat's sweep asks it which of the alerts Morgue silenced
are still active, and stores the others as resolved, as their receiver would.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from oncall.models import Page, PageStatus

from . import alertmanager
from .models import Alert, AlertSilence
from .payloads import Incoming
from .services import receive_alerts

logger = logging.getLogger(__name__)

SILENCE_TASK = "alerts_review.tasks.silence_for_page"
HORIZON = dt.timedelta(hours=24)
# A silence ending sooner than this while its alert fires is moved on by the sweep.
EXTEND_WITHIN = dt.timedelta(hours=6)


def comment_for(page: Page, alert: Alert, username: str) -> str:
    link = settings.MORGUE_BASE_URL + reverse("oncall:page-detail", args=[page.pk])
    return f"Acknowledged by {username} in Morgue, page {page.pk} ({link}); morgue alert {alert.pk}."[:500]


def _claim(page: Page, alert: Alert, username: str) -> AlertSilence | None:
    url = alert.alert_source.alertmanager_url if alert.alert_source else ""
    if not url:
        return None
    try:
        with transaction.atomic():
            silence, _ = AlertSilence.objects.get_or_create(
                page=page,
                alert=alert,
                defaults={"alertmanager_url": url, "comment": comment_for(page, alert, username)},
            )
    except IntegrityError:  # another run claimed it at the same moment
        silence = AlertSilence.objects.get(page=page, alert=alert)
    return silence


def silence_for_page(*, page_id: int, username: str, now: dt.datetime | None = None) -> list[AlertSilence]:
    """Silence in Alertmanager each firing alert of an acknowledged page; the silences Morgue holds.

    Raises OSError (Alertmanager down or answering an error) for the task to
    retry; what was created before the error is kept and not created again.
    """
    now = now or timezone.now()
    page = Page.objects.filter(pk=page_id).first()
    if page is None or page.status == PageStatus.RESOLVED:
        return []
    alerts = Alert.objects.filter(page=page, resolved_at__isnull=True).select_related("alert_source")
    held = []
    for alert in alerts.order_by("pk"):
        if not isinstance(alert.labels, dict) or not alert.labels:
            continue
        silence = _claim(page, alert, username)
        if silence is None or silence.expired_at is not None:
            continue
        if not silence.silence_id:
            _create(silence, alert, now)
        held.append(silence)
    return held


def _create(silence: AlertSilence, alert: Alert, now: dt.datetime) -> None:
    url, labels = silence.alertmanager_url, alert.labels
    found = alertmanager.find_silence(url, labels=labels, comment=silence.comment)
    ends_at = now + HORIZON
    if found is not None:
        silence_id = str(found["id"])
        ends_at = silence.ends_at or ends_at
    else:
        silence_id = alertmanager.put_silence(
            url, labels=labels, comment=silence.comment, starts_at=now, ends_at=ends_at
        )
    AlertSilence.objects.filter(pk=silence.pk).update(silence_id=silence_id, ends_at=ends_at)
    silence.silence_id, silence.ends_at = silence_id, ends_at


def expire_silences(*, page_id: int, now: dt.datetime | None = None) -> int:
    """Expire a page's silences whose alert resolved (all of them once the page resolved); how many."""
    now = now or timezone.now()
    pending = AlertSilence.objects.filter(page_id=page_id, expired_at__isnull=True)
    if not Page.objects.filter(pk=page_id, status=PageStatus.RESOLVED).exists():
        pending = pending.filter(alert__resolved_at__isnull=False)
    expired = 0
    for silence in pending.order_by("pk"):
        if silence.silence_id:
            alertmanager.expire_silence(silence.alertmanager_url, silence.silence_id)
        AlertSilence.objects.filter(pk=silence.pk).update(expired_at=now)
        expired += 1
    return expired


def sweep_silences(*, now: dt.datetime | None = None) -> int:
    """The beat's part: expire what the tasks missed; move on the end of silences whose alert still fires."""
    now = now or timezone.now()
    notice_resolutions(now=now)
    pending = AlertSilence.objects.filter(expired_at__isnull=True)
    finished = pending.filter(alert__resolved_at__isnull=False) | pending.filter(
        page__status=PageStatus.RESOLVED
    )
    for page_id in sorted(set(finished.values_list("page_id", flat=True))):
        try:
            expire_silences(page_id=page_id, now=now)
        except (OSError, alertmanager.AlertmanagerRefused) as error:
            logger.warning("silences of page %s could not be expired: %s", page_id, error)
    extended = 0
    ending = pending.filter(
        alert__resolved_at__isnull=True, ends_at__lt=now + EXTEND_WITHIN, silence_id__gt=""
    ).select_related("alert")
    for silence in ending:
        ends_at = now + HORIZON
        try:
            # Alertmanager may answer a new id (an active silence's start cannot move).
            silence_id = alertmanager.put_silence(
                silence.alertmanager_url,
                labels=silence.alert.labels,
                comment=silence.comment,
                starts_at=now,
                ends_at=ends_at,
                silence_id=silence.silence_id,
            )
        except (OSError, alertmanager.AlertmanagerRefused) as error:
            logger.warning("silence %s could not be extended: %s", silence.silence_id, error)
            continue
        AlertSilence.objects.filter(pk=silence.pk).update(ends_at=ends_at, silence_id=silence_id)
        extended += 1
    return extended


def notice_resolutions(*, now: dt.datetime | None = None) -> int:
    """Store as resolved the silenced alerts their Alertmanager no longer has active; how many.

    Their pages then resolve, and their silences expire, as for a resolution received.
    """
    now = now or timezone.now()
    silenced = (
        AlertSilence.objects.filter(expired_at__isnull=True, alert__resolved_at__isnull=True)
        .exclude(silence_id="")
        .select_related("alert__alert_source", "alert__team")
    )
    by_url: dict[str, list[Alert]] = {}
    for silence in silenced:
        by_url.setdefault(silence.alertmanager_url, []).append(silence.alert)
    noticed = 0
    for url, alerts in by_url.items():
        try:
            active = alertmanager.active_fingerprints(url)
        except (OSError, ValueError, alertmanager.AlertmanagerRefused) as error:
            logger.warning("Alertmanager %s could not be asked for its alerts: %s", url, error)
            continue
        gone = [alert for alert in alerts if alert.identity not in active]
        for alert in gone:
            resolved = Incoming(
                identity=alert.identity,
                check=alert.check_name,
                fired_at=alert.fired_at,
                host=alert.host,
                state="resolved",
                severity=alert.severity,
                summary=alert.summary,
                labels=alert.labels if isinstance(alert.labels, dict) else {},
                resolved_at=now,
                team=alert.team.slug if alert.team else "",
            )
            receive_alerts(items=[resolved], source_name=alert.source, alert_source=alert.alert_source)
            noticed += 1
    return noticed
