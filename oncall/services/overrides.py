"""Overrides and swaps: a person taking a level of a rotation for a window."""

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from morgue import audit, permissions
from morgue.emails import send_email
from morgue.models import Profile, display_name
from morgue.tasking import enqueue_on_commit

from ..exceptions import NotYourShift, OverrideConflict, OverrideInvalid, SwapClosed
from ..models import (
    Level,
    Override,
    Rotation,
    Shift,
    Swap,
    SwapStatus,
)
from .rotations import _apply_in_memory, _fill_outside_windows, resolve_layers


@transaction.atomic
def create_override(
    *,
    rotation: Rotation,
    level: str,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    created_by: User | None = None,
    from_swap: bool = False,
) -> Override:
    """Give a person one level of a rotation for a window; the shifts it covers are split.

    `from_swap`: the override an accepted swap makes, allowed when the holder asked (ask_swap).
    """
    if ends_at <= starts_at:
        raise OverrideInvalid("The override must end after it starts.", field="ends_at")
    if level not in rotation.levels:
        raise OverrideInvalid(f"{rotation} has no level {level}.", field="level")
    if created_by is not None and not from_swap:
        verb = "override_self" if created_by.pk == user.pk else "override_others"
        permissions.require_actor(created_by, verb, rotation)
    Rotation.objects.select_for_update().filter(pk=rotation.pk).first()
    other_level = Level.L2 if level == Level.L1 else Level.L1
    if rotation.shifts.overlapping(starts_at, ends_at).filter(level=other_level, user=user).exists():
        raise OverrideConflict(
            f"{user.username} is already {other_level} of {rotation} in that window; "
            "L1 and L2 must be different people.",
            field="user",
        )
    override = Override.objects.create(
        rotation=rotation,
        level=level,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=created_by,
    )
    pieces = list(
        Shift.all_pieces.filter(rotation=rotation, level=level)
        .overlapping(starts_at, ends_at)
        .select_for_update()
    )
    Shift.all_pieces.filter(pk__in=[piece.pk for piece in pieces]).delete()
    replaced = _apply_in_memory(pieces, override)
    if rotation.restrictions:
        # Where the restricted rotation has nobody, the override still holds.
        earlier = Shift.all_pieces.filter(rotation=rotation, level=level, starts_at__lte=starts_at)
        number = earlier.aggregate(number=Max("number"))["number"] or 0
        replaced = _fill_outside_windows(replaced, override, since=starts_at, first_number=number)
    Shift.objects.bulk_create(replaced)
    resolve_layers(team_id=rotation.team_id, since=min(starts_at, timezone.now()))
    audit.record_created(override, actor=created_by)
    return override


@transaction.atomic
def ask_swap(
    *,
    rotation: Rotation,
    requested_by: User,
    taken_by: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    level: str = Level.L1,
    reason: str = "",
) -> Swap:
    """Ask another person to take a window of one's own shift."""
    # Handing one's shift on is overriding oneself; the person asked consents by accepting.
    permissions.require_actor(requested_by, "override_self", rotation)
    if ends_at <= starts_at:
        raise OverrideInvalid("The swap must end after it starts.", field="ends_at")
    if requested_by.pk == taken_by.pk:
        raise OverrideInvalid("Ask someone else to take your shift.", field="taken_by")
    held = rotation.shifts.overlapping(starts_at, ends_at).filter(level=level)
    if not held.exists() or held.exclude(user=requested_by).exists():
        raise NotYourShift("You can only offer a window of your own shift.")
    if not rotation.members.filter(user=taken_by).exists():
        raise OverrideInvalid(f"{taken_by.username} is not a member of {rotation}.", field="taken_by")
    if not taken_by.is_active:
        raise OverrideInvalid(f"{taken_by.username} can no longer sign in.", field="taken_by")
    # On call anywhere (any team, any level) during the window: they cannot take it too.
    busy = Shift.objects.overlapping(starts_at, ends_at).filter(user=taken_by).select_related("rotation")
    if clash := busy.first():
        raise OverrideInvalid(
            f"{taken_by.username} is already {clash.level} of {clash.rotation} in that window.",
            field="taken_by",
        )
    swap = Swap.objects.create(
        rotation=rotation,
        level=level,
        requested_by=requested_by,
        taken_by=taken_by,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    audit.record_created(swap, actor=requested_by)
    enqueue_on_commit("oncall.tasks.tell_swap_asked", swap.pk)
    return swap


def send_swap_asked(*, swap_id: int) -> bool:
    """Email the person asked to take a swap, once; False when it is no longer asked or was sent."""
    swap = (
        Swap.objects.select_related("rotation__team", "requested_by", "taken_by").filter(pk=swap_id).first()
    )
    if swap is None or swap.status != SwapStatus.ASKED or not swap.taken_by.email:
        return False
    delivery = send_email(
        name="oncall-swap-asked",
        key=str(swap.pk),
        recipient=str(swap.taken_by_id),
        to=[swap.taken_by.email],
        context=lambda: {
            "swap": swap,
            "asked_by": display_name(swap.requested_by),
            "zone": Profile.objects.for_user(swap.taken_by).zone,
            "link": settings.MORGUE_BASE_URL + reverse("oncall:now"),
        },
    )
    return delivery is not None


@transaction.atomic
def withdraw_swap(*, swap: Swap, user: User) -> Swap:
    """The person who asked takes the request back before it is answered."""
    swap = Swap.objects.select_for_update().get(pk=swap.pk)
    if user.pk != swap.requested_by_id:
        raise NotYourShift("Only the person who asked can withdraw this swap.")
    if swap.status != SwapStatus.ASKED:
        raise SwapClosed(f"This swap is already {swap.get_status_display().lower()}.")
    swap.status = SwapStatus.WITHDRAWN
    swap.save(update_fields=["status"])
    audit.record(
        audit.Action.WITHDRAWN,
        swap,
        changes={"status": [SwapStatus.ASKED, swap.status]},
        labels={"status": "Status"},
        actor=user,
    )
    return swap


@transaction.atomic
def answer_swap(*, swap: Swap, user: User, accept: bool) -> Swap:
    """The asked person accepts (it becomes an override) or declines."""
    swap = Swap.objects.select_for_update().get(pk=swap.pk)
    if user.pk != swap.taken_by_id:
        raise NotYourShift("Only the person asked can answer this swap.")
    if swap.status != SwapStatus.ASKED:
        raise SwapClosed(f"This swap is already {swap.get_status_display().lower()}.")
    if accept:
        swap.override = create_override(
            rotation=swap.rotation,
            level=swap.level,
            user=swap.taken_by,
            starts_at=swap.starts_at,
            ends_at=swap.ends_at,
            reason=swap.reason or f"Swap with {swap.requested_by.username}",
            created_by=swap.taken_by,
            from_swap=True,
        )
        swap.status = SwapStatus.ACCEPTED
    else:
        swap.status = SwapStatus.DECLINED
    swap.save()
    audit.record(
        audit.Action.ANSWERED,
        swap,
        changes={"status": [SwapStatus.ASKED, swap.status]},
        labels={"status": "Status"},
        actor=user,
    )
    return swap
