"""Background work of the alerts review: the monthly report emails, folding the kept counts."""

import datetime as dt
import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from morgue.models import Team

from . import alertmanager, paging, services, silences
from .selectors import previous_month

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def email_monthly_alert_reports(month: str | None = None) -> int:
    """Beat, on the first of the month: queue one email task per team for last month's report."""
    first = (
        dt.date.fromisoformat(f"{month}-01")
        if month
        else previous_month(timezone.now().date().replace(day=1))
    )
    team_ids = services.teams_to_report()
    for team_id in team_ids:
        email_team_alert_report.delay(team_id, f"{first:%Y-%m}")
    return len(team_ids)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def email_team_alert_report(team_id: int, month: str) -> bool:
    """Email one team's report for a month; a repeat finds the delivery claimed and sends nothing."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        return False
    delivery = services.send_team_alert_report(team=team, month=dt.date.fromisoformat(f"{month}-01"))
    return delivery is not None


@shared_task(acks_late=True)
def compact_alert_counts() -> None:
    """Beat, every minute: fold the counts' deltas into the counts, so reads stay small."""
    services.compact_alert_counts()


@shared_task(acks_late=True)
def prune_old_alerts() -> int:
    """Beat, nightly: delete alerts past ALERT_RETENTION_MONTHS (nothing when it is empty)."""
    from django.conf import settings

    from . import retention

    if not settings.ALERT_RETENTION_MONTHS:
        return 0
    return retention.prune_alerts(retention.cutoff(int(settings.ALERT_RETENTION_MONTHS), "m"))


@shared_task(
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=2, retry_backoff_max=30, max_retries=5
)
def page_for_alerts(alert_ids: list[int]) -> int:
    """Decide what stored alerts page (alerts_review.paging); returns how many pages opened.

    A database that is briefly away or busy (a lock, a restart) is tried again in
    seconds; past the retries, the beat's sweep decides the alerts within a minute.
    """
    return len(paging.decide_paging(alert_ids=alert_ids))


@shared_task(acks_late=True)
def sweep_paging() -> int:
    """Beat, every minute: lost paging decisions, silent heartbeats, pages whose alerts all resolved."""
    opened = paging.sweep_paging()
    silences.sweep_silences()
    return opened


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def silence_for_page(page_id: int, username: str) -> int:
    """Silence an acknowledged page's alerts in their Alertmanager; retried, never creating one twice."""
    try:
        return len(silences.silence_for_page(page_id=page_id, username=username))
    except alertmanager.AlertmanagerRefused as error:
        logger.warning("page %s's alerts were not silenced: %s", page_id, error)
        return 0


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=5, retry_backoff_max=600, max_retries=8)
def expire_silences(page_id: int) -> int:
    """Expire the silences of a page's resolved alerts (all of them once it resolved)."""
    try:
        return silences.expire_silences(page_id=page_id)
    except alertmanager.AlertmanagerRefused as error:
        logger.warning("page %s's silences were not expired: %s", page_id, error)
        return 0
