"""A beat scheduler that only sends tasks while it holds the database lease.

Exactly one `celery beat` should run, but a second one started by mistake (a
redeploy that overlaps, two hosts with the same unit) would send every
periodic task twice. Each beat therefore claims a lease row before it sends
anything: a conditional UPDATE that succeeds only for the holder or once the
lease has expired, which the database serialises on SQLite and PostgreSQL
alike. The other beat keeps asking and takes over within LEASE_SECONDS of the
holder dying; entries that fell due meanwhile run once on takeover (every
periodic task is idempotent, so that is safe).
"""

import datetime as dt
import os
import socket
import uuid

from celery.beat import PersistentScheduler
from celery.utils.log import get_logger
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

logger = get_logger(__name__)

LEASE_NAME = "beat"
LEASE_SECONDS = 60
# The holder renews at least this often; a waiting beat asks this often.
CHECK_SECONDS = 15.0


def claim_lease(
    *, holder: str, now: dt.datetime, name: str = LEASE_NAME, seconds: int = LEASE_SECONDS
) -> bool:
    """Take or renew the lease for `holder`; False while someone else's lease runs."""
    # Imported here: Celery loads this class before Django's apps are ready.
    from .models import SchedulerLease

    SchedulerLease.objects.get_or_create(name=name, defaults={"holder": "", "expires_at": now})
    claimed = SchedulerLease.objects.filter(Q(holder=holder) | Q(expires_at__lte=now), name=name).update(
        holder=holder, expires_at=now + dt.timedelta(seconds=seconds)
    )
    return claimed == 1


def release_lease(*, holder: str, now: dt.datetime, name: str = LEASE_NAME) -> None:
    """Let a waiting beat take over at once (a clean shutdown)."""
    from .models import SchedulerLease

    SchedulerLease.objects.filter(name=name, holder=holder).update(expires_at=now)


class LeasedScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, sending only while this process holds the lease."""

    def __init__(self, *args, **kwargs):
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_until: dt.datetime | None = None
        super().__init__(*args, **kwargs)

    def holds_lease(self) -> bool:
        now = timezone.now()
        if self.lease_until and now < self.lease_until - dt.timedelta(seconds=LEASE_SECONDS / 2):
            return True
        close_old_connections()
        if claim_lease(holder=self.holder, now=now):
            from .health import BEAT, record_heartbeat

            # /healthz reads this: the beat holding the schedule is alive.
            record_heartbeat(BEAT)
            if self.lease_until is None:
                logger.info(f"beat {self.holder} holds the schedule")
            self.lease_until = now + dt.timedelta(seconds=LEASE_SECONDS)
            return True
        if self.lease_until is not None:
            logger.info(f"beat {self.holder} lost the schedule to another beat")
        self.lease_until = None
        return False

    def tick(self, *args, **kwargs) -> float:
        if not self.holds_lease():
            return CHECK_SECONDS
        return min(super().tick(*args, **kwargs), CHECK_SECONDS)

    def close(self) -> None:
        if self.lease_until is not None:
            close_old_connections()
            release_lease(holder=self.holder, now=timezone.now())
            self.lease_until = None
        super().close()
