"""Review-meeting invitations, sent after the scheduling transaction commits."""

import smtplib

from celery import shared_task

from incidents.services.review import deliver_invitation, resend_lost_invitations


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def send_review_invitation(meeting_id: int, sequence: int) -> bool:
    """Email the invitation of one meeting sequence; a redelivered task sends nothing twice."""
    return deliver_invitation(meeting_id=meeting_id, sequence=sequence)


@shared_task
def sweep_review_invitations() -> int:
    """Beat: re-enqueue requested invitations whose task was lost (sending stays once per sequence)."""
    return resend_lost_invitations()
