"""Daily remediation digests: a beat sweep fans out one task per owner."""

from smtplib import SMTPException

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.selectors.remediation import owners_with_items_due
from incidents.services.remediation import send_digest


@shared_task
def send_remediation_digests() -> int:
    """Beat, daily: queue a digest for everyone who may have items overdue or due soon."""
    owner_ids = owners_with_items_due(utc_today=timezone.now().date())
    for owner_id in owner_ids:
        send_remediation_digest.delay(owner_id)
    return len(owner_ids)


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
)
def send_remediation_digest(owner_id: int) -> int | None:
    """Email one owner's digest; the (person, local date) claim makes a second run a no-op."""
    owner = get_user_model().objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        return None
    digest = send_digest(owner=owner, now=timezone.now())
    return digest.pk if digest else None
