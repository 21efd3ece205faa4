"""Review-meeting invitations and cancellations, sent after the scheduling transaction commits."""

import smtplib

from celery import shared_task

from incidents.services.review import (
    deliver_cancellation,
    deliver_invitation,
    resend_lost_cancellations,
    resend_lost_invitations,
)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def send_review_invitation(meeting_id: int, sequence: int) -> bool:
    """Email the invitation of one meeting sequence; a redelivered task sends nothing twice."""
    return deliver_invitation(meeting_id=meeting_id, sequence=sequence)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def send_review_cancellation(cancellation_id: int) -> bool:
    """Email one cancellation (METHOD:CANCEL) to those it tells; a redelivered task sends nothing twice."""
    return deliver_cancellation(cancellation_id=cancellation_id)


@shared_task
def sweep_review_invitations() -> int:
    """Beat: re-enqueue requested invitations and cancellations whose task was lost (each still sent once)."""
    return resend_lost_invitations() + resend_lost_cancellations()
