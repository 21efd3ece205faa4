"""Status updates sent to an incident's subscribers, after the update's transaction commits."""

import smtplib

from celery import shared_task

from incidents.services.running import DeliveryPending
from incidents.services.running import deliver_status_update as deliver


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError, DeliveryPending),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
)
def deliver_status_update(update_id: int) -> int:
    """Send one status update to every subscriber's channels; each copy is claimed, so none goes twice."""
    return deliver(update_id=update_id)
