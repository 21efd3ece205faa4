"""Background work for on call: each task loads by id, calls one service, returns."""

from celery import shared_task

from . import services
from .models import Rotation
from .services import notifications

# Retries are counted on the notification's row (attempts), not here: this only bounds a runaway loop.
MAX_TASK_RETRIES = 20


@shared_task(acks_late=True)
def notify_page_step(step_id: int) -> bool:
    return services.notify_step(step_id=step_id) is not None


@shared_task(bind=True, acks_late=True, max_retries=MAX_TASK_RETRIES)
def send_notification(self, notification_id: int) -> bool:
    try:
        return notifications.send_notification(notification_id=notification_id) is not None
    except notifications.RetryLater as retry:
        raise self.retry(countdown=retry.countdown, exc=retry) from retry


@shared_task(acks_late=True)
def sweep_notifications() -> int:
    return notifications.sweep_notifications()


@shared_task(acks_late=True)
def escalate_page_step(page_id: int, step_number: int) -> bool:
    return services.escalate_page(page_id=page_id, step_number=step_number) is not None


@shared_task(acks_late=True)
def notify_page_resolved(page_id: int) -> bool:
    return services.notify_page_resolved(page_id=page_id) is not None


@shared_task(acks_late=True)
def sweep_pages() -> int:
    return services.sweep_pages()


@shared_task(acks_late=True)
def materialise_rotation(rotation_id: int) -> int:
    rotation = Rotation.objects.filter(pk=rotation_id).first()
    return services.materialise_shifts(rotation=rotation) if rotation else 0


@shared_task(acks_late=True)
def extend_rotations() -> int:
    return services.extend_all_rotations()


@shared_task(acks_late=True)
def tell_schedule_change(rotation_id: int, user_id: int, key: str, change: dict) -> bool:
    return services.send_schedule_change(rotation_id=rotation_id, user_id=user_id, key=key, change=change)


@shared_task(acks_late=True)
def tell_swap_asked(swap_id: int) -> bool:
    return services.send_swap_asked(swap_id=swap_id)


@shared_task(acks_late=True)
def send_shift_reminders() -> int:
    return services.send_shift_reminders()
