"""Workflows that write: rotations and their shifts, overrides and swaps, pages."""

from .changes import PersonChange, send_schedule_change
from .overrides import answer_swap, ask_swap, create_override, send_swap_asked, withdraw_swap
from .pages import (
    acknowledge_page,
    escalate_page,
    notify_page_resolved,
    notify_step,
    page_team,
    resolve_page,
    sweep_pages,
)
from .reminders import send_shift_reminders
from .rotations import (
    DEFAULT_ESCALATION_MINUTES,
    HORIZON,
    MemberSpec,
    create_rotation,
    create_team,
    end_rotation,
    everyone_else_users,
    extend_all_rotations,
    materialise_shifts,
    preview_rotation_change,
    update_rotation,
    update_team,
)

__all__ = [
    "DEFAULT_ESCALATION_MINUTES",
    "HORIZON",
    "MemberSpec",
    "PersonChange",
    "acknowledge_page",
    "answer_swap",
    "ask_swap",
    "create_override",
    "create_rotation",
    "create_team",
    "end_rotation",
    "escalate_page",
    "everyone_else_users",
    "extend_all_rotations",
    "materialise_shifts",
    "notify_page_resolved",
    "notify_step",
    "page_team",
    "preview_rotation_change",
    "resolve_page",
    "send_schedule_change",
    "send_shift_reminders",
    "send_swap_asked",
    "sweep_pages",
    "update_rotation",
    "update_team",
    "withdraw_swap",
]
