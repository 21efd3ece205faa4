"""Background work for on call: each task loads by id, calls one service, returns."""

from celery import shared_task

from . import services
from .models import Rotation


@shared_task(acks_late=True)
def notify_page_step(step_id: int) -> bool:
    return services.notify_step(step_id=step_id) is not None


@shared_task(acks_late=True)
def escalate_page_step(page_id: int, step_number: int) -> bool:
    return services.escalate_page(page_id=page_id, step_number=step_number) is not None


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
