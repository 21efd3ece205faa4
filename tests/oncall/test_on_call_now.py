"""on_call_now's hand-written statement names the same holders as the one definition (selectors.Holders).

The statement is kept for speed (bench/bench_oncall.py); this is what lets it
stay. The rows are made through the services, as in production: overrides,
an accepted swap, an override across a handoff, L1 and L2, an L1-only
rotation with 28-day shifts over a DST change, a team with two rotations (so
the oldest one must win), and gaps before a rotation starts and after its
shifts run out.
"""

import datetime as dt
from collections import Counter

import pytest

from oncall import services
from oncall.models import Level, Shift, ShiftSource
from oncall.selectors import Holders, on_call_now, person_on_call
from tests.factories import ProfileFactory, UserFactory, make_rotation

UTC = dt.UTC
pytestmark = pytest.mark.django_db
FIRST = dt.datetime(2025, 12, 30, tzinfo=UTC)
LAST = dt.datetime(2026, 7, 10, tzinfo=UTC)
TICK = dt.timedelta(microseconds=1)


@pytest.fixture
def rotations():
    # Its shifts run out in June (materialised 180 days from 20 December): a gap after.
    ops = make_rotation(
        slug="ops-primary",
        people=("ana", "ben", "cy"),
        time_zone="Europe/London",
        now=dt.datetime(2025, 12, 20, tzinfo=UTC),
    )
    # Payments has two rotations: the older one starts later, so before it
    # does the newer one holds the team, and after that the older one wins.
    payments = make_rotation(
        slug="payments-primary",
        people=("gus", "hana", "ivo"),
        first_shift_date=dt.date(2026, 2, 2),
        shift_length_days=7,
        time_zone="America/New_York",
    )
    secondary = make_rotation(
        slug="payments-secondary", people=("jo", "kai"), first_shift_date=dt.date(2026, 1, 3)
    )
    support = make_rotation(
        slug="support-primary",
        people=("kofi", "lucia"),
        has_l2=False,
        shift_length_days=28,
        time_zone="America/New_York",
    )
    dev_base = make_rotation(
        slug="dev-primary", people=("mo", "nell", "olu"), time_zone="Europe/London", layer=1
    )
    dev_day = make_rotation(
        team=dev_base.team,
        slug="dev-daytime",
        people=("pat", "quin"),
        time_zone="Europe/London",
        layer=2,
        has_l2=False,
        shift_length_hours=12,
        handoff_time=dt.time(8),
        restrictions=[
            {"start_day": day, "start_time": "09:00", "end_day": day, "end_time": "17:00"}
            for day in ("mon", "tue", "wed", "thu", "fri")
        ],
    )
    stand_in = ProfileFactory(user=UserFactory(username="zed")).user

    def holder(rotation, level, at):
        return Shift.objects.covering(at).get(rotation=rotation, level=level).user

    # An L1 override inside a shift, one across a handoff, an L2 override.
    services.create_override(
        rotation=ops,
        level=Level.L1,
        user=stand_in,
        starts_at=dt.datetime(2026, 2, 10, 9, tzinfo=UTC),
        ends_at=dt.datetime(2026, 2, 10, 17, tzinfo=UTC),
    )
    handoff = ops.shifts.filter(level=Level.L1, starts_at__gt=dt.datetime(2026, 3, 1, tzinfo=UTC)).first()
    services.create_override(
        rotation=ops,
        level=Level.L1,
        user=stand_in,
        starts_at=handoff.starts_at - dt.timedelta(hours=5),
        ends_at=handoff.starts_at + dt.timedelta(hours=5),
    )
    february = dt.datetime(2026, 2, 20, 12, tzinfo=UTC)
    services.create_override(
        rotation=payments,
        level=Level.L2,
        user=next(
            member.user
            for member in payments.members.all()
            if member.user not in (holder(payments, Level.L1, february), holder(payments, Level.L2, february))
        ),
        starts_at=february,
        ends_at=february + dt.timedelta(hours=30),
    )
    # An accepted swap on the newer payments rotation and one on support.
    for rotation, at in ((secondary, dt.datetime(2026, 2, 25, 6, tzinfo=UTC)), (support, february)):
        asker = holder(rotation, Level.L1, at)
        rotation.members.create(user=stand_in, position=99)  # a swap is asked of a member
        swap = services.ask_swap(
            rotation=rotation,
            requested_by=asker,
            taken_by=stand_in,
            starts_at=at,
            ends_at=at + dt.timedelta(hours=20),
        )
        services.answer_swap(swap=swap, user=stand_in, accept=True)
    services.create_override(
        rotation=dev_base,
        level=Level.L1,
        user=stand_in,
        starts_at=dt.datetime(2026, 3, 2, 6, tzinfo=UTC),
        ends_at=dt.datetime(2026, 3, 2, 20, tzinfo=UTC),
    )
    return [ops, payments, secondary, support, dev_base, dev_day]


def _instants(rotations) -> list[dt.datetime]:
    """Every 31 hours (so each time of day comes round), and either side of the edges that matter.

    Those are the ends of every override's piece and of the pieces around it,
    and where each rotation's shifts begin and run out.
    """
    instants = set()
    at = FIRST
    while at < LAST:
        instants.add(at)
        at += dt.timedelta(hours=31)
    pieces = Shift.objects.filter(rotation__in=rotations)
    edges = set()
    for piece in pieces.filter(source=ShiftSource.OVERRIDE):
        edges.update({piece.starts_at, piece.ends_at})
    for rotation in rotations:
        for level in rotation.levels:
            of_level = pieces.filter(rotation=rotation, level=level)
            edges.update({of_level.earliest("starts_at").starts_at, of_level.latest("ends_at").ends_at})
    for piece in Shift.all_pieces.filter(rotation__layer__isnull=False):
        edges.update({piece.starts_at, piece.ends_at})
    for edge in edges:
        instants.update({edge - TICK, edge})
    return sorted(instant for instant in instants if instant < LAST)


def _by_definition(rotations, at):
    """{(rotation, level): (holder, start, end, source, next holder, next start)} by ShiftQuerySet.holding."""
    expected = {}
    slugs = {rotation.pk: rotation.slug for rotation in rotations}
    for level in Level:
        holding = (
            Shift.objects.holding(level=level, at=at).filter(rotation__in=rotations).select_related("user")
        )
        for piece in holding:
            key = (slugs[piece.rotation_id], level)
            if key in expected:
                continue  # the first in HOLDER_ORDER holds it
            following = (
                Shift.objects.holding(level=level, at=piece.ends_at)
                .filter(rotation=piece.rotation_id)
                .select_related("user")
                .first()
            )
            expected[key] = (
                piece.user.username,
                piece.starts_at,
                piece.ends_at,
                piece.source,
                following.user.username if following else None,
                following.starts_at if following else None,
            )
    return expected


def test_on_call_now_names_the_holders_of_the_one_definition(rotations):
    teams = sorted({rotation.team for rotation in rotations}, key=lambda team: team.slug)
    rotation_ids = {rotation.slug: rotation.pk for rotation in rotations}
    instants = _instants(rotations)
    # The span form (as the alerts review reads it) must agree with one instant at a time.
    spans = {
        level: Holders(level=level, team_ids={team.pk for team in teams}, instants=instants)
        for level in Level
    }
    seen = Counter()
    for index, at in enumerate(instants):
        rows = on_call_now(at=at)
        listed = {
            (row.rotation, row.level): (
                row.user,
                row.shift_start,
                row.shift_end,
                row.source,
                row.next_user,
                row.next_shift_start,
            )
            for row in rows
        }
        assert len(listed) == len(rows), f"two holders of one level at {at}"
        assert listed == _by_definition(rotations, at), at

        chosen = teams[index % len(teams)]  # the team filter, one team at a time
        assert on_call_now(at=at, team=chosen) == [row for row in rows if row.team == chosen.slug]
        for team in teams:
            for level in Level:
                of_team = sorted(
                    (row for row in rows if row.team == team.slug and row.level == level),
                    key=lambda row: rotation_ids[row.rotation],
                )
                first = of_team[0].user if of_team else None
                person = person_on_call(team=team, at=at, level=level)
                assert (person.username if person else None) == first, (team, level, at)
                spanned = spans[level].person(team.pk, at)
                assert (spanned.username if spanned else None) == first, (team, level, at)
                seen["held" if first else "gap"] += 1
                seen["several rotations"] += len(of_team) > 1
        seen.update(row.source for row in rows)
        seen["no next"] += any(row.next_user is None for row in rows)

    # The sweep met every case it is meant to check.
    assert seen["gap"] and seen["held"] and seen["several rotations"] and seen["no next"]
    assert seen[ShiftSource.OVERRIDE] >= 16 and seen[ShiftSource.ROTATION]


def test_the_oldest_rotation_of_a_team_holds_it_and_the_newer_one_fills_its_gap(rotations):
    payments, secondary = rotations[1:3]
    team = payments.team
    before = dt.datetime(2026, 1, 20, 12, tzinfo=UTC)  # payments-primary has not started
    after = dt.datetime(2026, 3, 20, 12, tzinfo=UTC)

    assert (
        person_on_call(team=team, at=before)
        == Shift.objects.covering(before).get(rotation=secondary, level=Level.L1).user
    )
    assert (
        person_on_call(team=team, at=after)
        == Shift.objects.covering(after).get(rotation=payments, level=Level.L1).user
    )
    assert person_on_call(team=team, at=dt.datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_a_higher_layer_wins_where_it_has_someone_and_the_lower_one_answers_elsewhere(rotations):
    dev_base, dev_day = rotations[4:]
    team = dev_base.team
    tuesday_noon = dt.datetime(2026, 3, 3, 12, tzinfo=UTC)
    tuesday_night = dt.datetime(2026, 3, 3, 22, tzinfo=UTC)
    day_holder = Shift.objects.covering(tuesday_noon).get(rotation=dev_day).user
    assert person_on_call(team=team, at=tuesday_noon) == day_holder
    # Underneath, the round-the-clock layer still has its turn, masked: nobody reads it.
    masked = Shift.all_pieces.filter(rotation=dev_base, level=Level.L1, masked=True)
    assert masked.filter(starts_at__lte=tuesday_noon, ends_at__gt=tuesday_noon).exists()
    assert not Shift.objects.covering(tuesday_noon).filter(rotation=dev_base, level=Level.L1).exists()
    night_holder = Shift.objects.covering(tuesday_night).get(rotation=dev_base, level=Level.L1).user
    assert person_on_call(team=team, at=tuesday_night) == night_holder
    # The lower layer's L2 is not covered by the L1-only daytime layer.
    assert Shift.objects.covering(tuesday_noon).filter(rotation=dev_base, level=Level.L2).exists()
    # The override on the lower layer holds only where the higher layer has nobody.
    override_pieces = Shift.objects.filter(rotation=dev_base, source=ShiftSource.OVERRIDE)
    assert [(piece.starts_at.hour, piece.ends_at.hour) for piece in override_pieces] == [(6, 9), (17, 20)]
