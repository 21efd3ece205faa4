"""An on-call import with its alert history: one transaction over oncall.importers and the review history.

The alerts app sits above on call, so the history is written here, in the
same transaction as the schedules: a failure anywhere leaves nothing, and in
plan mode the whole transaction is rolled back after the plan (and the
verification) has been read from it.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from oncall.importers import VENDORS, Applied, Difference, Plan, apply_plan, verify

from .payloads import Incoming
from .services import HistoryRow, import_history


@dataclass
class ImportResult:
    applied: Applied
    history_imported: int = 0
    history_known: int = 0
    differences: list[Difference] = field(default_factory=list)
    verified: bool = False
    saved: bool = False


def import_oncall(*, plan: Plan, now: dt.datetime, save: bool, check: bool) -> ImportResult:
    """Apply the plan and its history (kept only when `save`), and verify it when `check`."""
    with transaction.atomic():
        applied = apply_plan(plan=plan, now=now)
        rows = [
            HistoryRow(
                number=number,
                source=plan.source,
                incoming=Incoming(
                    identity=alert.identity,
                    check=alert.title,
                    fired_at=alert.fired_at,
                    resolved_at=alert.resolved_at,
                    severity=alert.severity,
                    state=alert.state,
                    team=applied.teams[alert.schedule].slug if alert.schedule in applied.teams else "",
                ),
            )
            for number, alert in enumerate(plan.history, start=1)
            if alert.fired_at >= now - dt.timedelta(days=365)
        ]
        imported, known = import_history(rows=rows)
        result = ImportResult(applied=applied, history_imported=imported, history_known=len(known))
        if check:
            result.differences = verify(plan=plan, applied=applied)
            result.verified = True
        if not save:
            transaction.set_rollback(True)
        result.saved = save
    return result


def summarise(*, plan: Plan, result: ImportResult, weeks: int, at: dt.datetime) -> dict[str, Any]:
    """What a run did, in plain JSON (the staff page keeps it in the session for its result page)."""
    prefix = "" if result.saved else "would "
    return {
        "vendor": VENDORS.get(plan.source, plan.source),
        "at": f"{at:%Y-%m-%d %H:%M}",
        "saved": result.saved,
        "weeks": weeks,
        "since": plan.since.isoformat() if plan.since else None,
        "until": plan.until.isoformat() if plan.until else None,
        "changes": [f"{prefix}{line}" for line in result.applied.changes],
        "problems": [{"text": str(problem), "blocks": problem.blocks} for problem in plan.problems],
        "blocking": sum(1 for problem in plan.problems if problem.blocks),
        "history_imported": result.history_imported,
        "history_known": result.history_known,
        "verified": result.verified,
        "differences": [str(difference) for difference in result.differences],
    }
