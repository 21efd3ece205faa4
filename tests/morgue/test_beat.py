"""Two beats started by mistake send each periodic task once: only the lease holder schedules."""

import datetime as dt
from collections import Counter

import pytest
import time_machine

from morgue.beat import LEASE_SECONDS, LeasedScheduler, claim_lease
from morgue.celery import app as celery_app

# Both beats share the database, so they need a real transaction each.
pytestmark = pytest.mark.django_db(transaction=True)

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
# A minute after both beats start, the every-minute entries fall due.
DUE = START + dt.timedelta(seconds=61)
# Every entry of the real schedule that falls due each minute.
EVERY_MINUTE = {name for name, entry in celery_app.conf.beat_schedule.items() if entry["schedule"] == 60.0}


@pytest.fixture
def sent():
    return []


@pytest.fixture
def beat(tmp_path, sent, monkeypatch):
    """A beat whose sends are recorded instead of going to the broker."""

    def start(name: str) -> LeasedScheduler:
        scheduler = LeasedScheduler(app=celery_app, schedule_filename=str(tmp_path / name), lazy=False)
        monkeypatch.setattr(
            scheduler, "apply_async", lambda entry, **options: sent.append((name, entry.name))
        )
        return scheduler

    return start


def _run_until_idle(*schedulers: LeasedScheduler) -> None:
    for scheduler in schedulers:
        for _ in range(100):
            if scheduler.tick() > 0:
                break


def _start_both(beat):
    with time_machine.travel(START, tick=False):
        return beat("first"), beat("second")


def test_two_beats_send_each_periodic_task_once(beat, sent):
    first, second = _start_both(beat)
    with time_machine.travel(DUE, tick=False):
        _run_until_idle(first, second, first, second)

    assert len(EVERY_MINUTE) >= 3
    assert Counter(entry for _, entry in sent) == Counter(EVERY_MINUTE)
    assert {name for name, _ in sent} == {"first"}


def test_the_waiting_beat_takes_over_when_the_holder_stops_renewing(beat, sent):
    first, second = _start_both(beat)
    with time_machine.travel(DUE, tick=False):
        _run_until_idle(first, second)
    assert {name for name, _ in sent} == {"first"}
    sent.clear()

    with time_machine.travel(DUE + dt.timedelta(seconds=LEASE_SECONDS + 1), tick=False):
        _run_until_idle(second)

    assert ("second", "heartbeat") in sent


def test_a_beat_that_stops_cleanly_hands_over_at_once(beat, sent):
    first, second = _start_both(beat)
    with time_machine.travel(DUE, tick=False):
        _run_until_idle(first)
        first.close()
        sent.clear()
        _run_until_idle(second)

    assert ("second", "heartbeat") in sent


def test_the_lease_is_held_until_it_expires():
    assert claim_lease(holder="a", now=START)
    assert not claim_lease(holder="b", now=START + dt.timedelta(seconds=LEASE_SECONDS - 1))
    assert claim_lease(holder="a", now=START + dt.timedelta(seconds=LEASE_SECONDS - 1))
    assert claim_lease(holder="b", now=START + dt.timedelta(seconds=2 * LEASE_SECONDS))


def test_beats_folder_is_made_whatever_the_broker(settings, tmp_path):
    from morgue.celery import ensure_broker_folders

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    settings.CELERY_BEAT_SCHEDULE_FILENAME = str(tmp_path / "var" / "celery" / "beat-schedule")

    ensure_broker_folders()

    # Without it, `celery beat` stops at start-up on a new host with a Redis broker.
    assert (tmp_path / "var" / "celery").is_dir()
