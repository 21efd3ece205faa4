"""Who is on call for every team over 50 rotations × 5 years of shifts, and regenerating 180 days of shifts.

Loads 50 rotations (3- and 7-day shifts, L1 and L2, in several time zones)
with five years of materialised shifts into a throwaway PostgreSQL database,
then times:
- `oncall.selectors.on_call_now()` for all teams at random instants (rows
  with team, rotation, person, shift end and who is next), against a bare
  indexed SELECT of the shift rows current at the same instants (target
  within 3×), and checks its query count is constant;
- regenerating one rotation's next 180 days (delete and rebuild shifts after
  the current one), per shift, against a bare bulk INSERT of as many rows.
"""

import datetime as dt
import random
import statistics
import time

from bench.harness import Result, median_seconds, throwaway_database

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
ROTATIONS = 50
YEARS = 5


def _load(connection):
    from django.contrib.auth import get_user_model

    from morgue.models import Team
    from oncall import services
    from oncall.models import Shift

    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"person{index}") for index in range(300)])
    now = dt.datetime(2026, 1, 4, tzinfo=dt.UTC)
    rotations = []
    for index in range(ROTATIONS):
        team = Team.objects.create(name=f"Team {index}", slug=f"team-{index}")
        # Created with a first shift five years back, the rotation materialises
        # all of its history and 180 days ahead in one bulk insert.
        rotations.append(
            services.create_rotation(
                team=team,
                name=f"Rotation {index}",
                slug=f"rotation-{index}",
                time_zone=ZONES[index % len(ZONES)],
                shift_length_days=3 if index % 2 else 7,
                first_shift_date=dt.date(2026 - YEARS, 1, 5),
                members=[services.MemberSpec(user, True) for user in users[index * 6 : index * 6 + 6]],
                now=now,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return rotations, Shift.objects.count(), now


def _interleaved(floor, subject, *, repeat: int) -> tuple[float, float]:
    """Medians of floor and subject timed turn about, so a busy machine slows both alike."""
    for _ in range(5):
        floor()
        subject()
    floor_samples, subject_samples = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        floor()
        floor_samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        subject()
        subject_samples.append(time.perf_counter() - started)
    return statistics.median(floor_samples), statistics.median(subject_samples)


def run() -> list[Result]:
    from django.test.utils import CaptureQueriesContext

    with throwaway_database() as connection:
        from oncall import services
        from oncall.models import Shift
        from oncall.selectors import on_call_now

        rotations, count, now = _load(connection)
        print(f"   loaded {ROTATIONS} rotations, {count:,} shifts", flush=True)
        random_ = random.Random(42)
        span = (now - dt.datetime(2021, 1, 5, tzinfo=dt.UTC)).total_seconds()
        instants = [
            dt.datetime(2021, 1, 5, tzinfo=dt.UTC) + dt.timedelta(seconds=random_.uniform(0, span))
            for _ in range(200)
        ]
        cursor_instants = iter(instants * 1000)

        with CaptureQueriesContext(connection) as queries:
            rows = on_call_now(at=instants[0])
        assert len(rows) == ROTATIONS * 2, len(rows)
        print(f"   who is on call: {len(queries)} query for {len(rows)} rows", flush=True)

        def subject():
            return on_call_now(at=next(cursor_instants))

        def floor():
            at = next(cursor_instants)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id, rotation_id, level, user_id, starts_at, ends_at FROM oncall_shift "
                    "WHERE starts_at <= %s AND starts_at > %s AND ends_at > %s",
                    [at, at - dt.timedelta(days=30), at],
                )
                return cursor.fetchall()

        floor_seconds, subject_seconds = _interleaved(floor, subject, repeat=300)
        results = [
            Result(
                f"who is on call, all {ROTATIONS} teams",
                subject_seconds,
                floor_seconds,
                "bare indexed SELECT of current shifts",
                target=3,
            )
        ]

        rotation = rotations[1]  # three-day shifts
        regenerate_at = now - dt.timedelta(days=1)
        created = services.materialise_shifts(rotation=rotation, now=regenerate_at)

        def regenerate():
            services.materialise_shifts(rotation=rotation, now=regenerate_at)

        template = list(Shift.objects.filter(rotation=rotation, starts_at__gt=regenerate_at))

        def insert():
            Shift.objects.filter(rotation=rotation, starts_at__gt=regenerate_at).delete()
            for shift in template:
                shift.pk = None
            Shift.objects.bulk_create(template, batch_size=1000)

        regenerate_seconds = median_seconds(regenerate, repeat=20, warmup=2)
        insert_seconds = median_seconds(insert, repeat=20, warmup=2)
        per_shift = regenerate_seconds / created
        print(f"   regenerating 180 days: {created} shifts, {per_shift * 1e6:.0f} µs per shift", flush=True)
        results.append(
            Result(
                "regenerate 180 days of one rotation, per shift",
                per_shift,
                insert_seconds / max(1, len(template)),
                "bare delete + bulk INSERT per shift",
            )
        )
        return results
