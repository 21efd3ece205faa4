import datetime as dt
import io
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils.html import escape

from morgue.models import Profile
from oncall.models import Level, Page, PageStatus, Shift
from tests.factories import UserFactory, make_rotation, member_of

UTC = dt.UTC
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def rotations():
    return [
        make_rotation(slug="ops-primary", people=("ana", "ben", "cy")),
        make_rotation(slug="payments-primary", people=("gus", "hana")),
        make_rotation(slug="support-primary", people=("kofi", "lucia"), has_l2=False),
    ]


class _Table(HTMLParser):
    """The rows of one table (found by its class) as {header: cell text}."""

    def __init__(self, css_class: str):
        super().__init__()
        self.css_class = css_class
        self.inside = False
        self.headers: list[str] = []
        self.rows: list[dict[str, str]] = []
        self.cells: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and self.css_class in (dict(attrs).get("class") or "").split():
            self.inside = True
        elif self.inside and tag == "tr":
            self.cells = []
        elif self.inside and tag in ("td", "th") and self.cells is not None:
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "tr" and self.cells is not None:
            cells = [" ".join(cell.split()) for cell in self.cells]
            if not self.headers:
                self.headers = cells
            else:
                self.rows.append(dict(zip(self.headers, cells, strict=True)))
            self.cells = None

    def handle_data(self, data):
        if self.inside and self.cells:
            self.cells[-1] += data


def on_call_table(body: str) -> list[dict[str, str]]:
    table = _Table("oncall-now")
    table.feed(body)
    return table.rows


def holder(rotation, level, at=NOW):
    return Shift.objects.covering(at).get(rotation=rotation, level=level).user


def test_on_call_page_shows_every_team_and_your_shifts(
    browser_client, rotations, django_assert_max_num_queries
):
    with time_machine.travel(NOW), django_assert_max_num_queries(12):
        response = browser_client.get("/oncall/")
    assert response.status_code == 200
    body = response.content.decode()
    rows = on_call_table(body)
    assert len(rows) == sum(len(rotation.levels) for rotation in rotations)
    for rotation in rotations:
        for level in rotation.levels:
            (row,) = [row for row in rows if row["Rotation"] == rotation.name and row["Level"] == level]
            current = Shift.objects.covering(NOW).get(rotation=rotation, level=level)
            following = Shift.objects.get(rotation=rotation, level=level, starts_at=current.ends_at)
            # The holder in the Who cell, the next person only in the Next cell.
            assert row["Who"] == current.user.profile.name
            assert row["Next"].startswith(f"{following.user.profile.name} from ")
            assert row["Until"] == f"{current.ends_at:%a} {current.ends_at.day} {current.ends_at:%b %H:%M}"
    assert "Your upcoming shifts" in body


def test_on_call_page_marks_an_override_in_the_who_cell(browser_client, person, rotations):
    from oncall import services

    ops = rotations[0]
    member_of(ops.team, "responder", user=person)
    services.create_override(
        rotation=ops,
        level=Level.L2,
        user=person,
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(hours=2),
        created_by=person,
    )
    with time_machine.travel(NOW):
        rows = on_call_table(browser_client.get("/oncall/").content.decode())
    by_level = {row["Level"]: row for row in rows if row["Rotation"] == ops.name}
    assert by_level["L2"]["Who"] == f"{person.profile.name} override"
    assert by_level["L1"]["Who"] == holder(ops, Level.L1).profile.name


def test_rotation_calendar_and_override_form(browser_client, person, rotations):
    member_of(rotations[0].team, "responder", user=person)  # who may put themselves on Ops's rotation
    with time_machine.travel(NOW):
        response = browser_client.post(
            "/oncall/rotations/ops-primary/",
            {
                "level": "L1",
                "user": "pat",
                "starts_at": "2026-02-12T09:00",
                "ends_at": "2026-02-12T17:00",
                "reason": "cover",
            },
        )
        assert response.status_code == 302
        body = browser_client.get(response["Location"]).content.decode()
    assert "(override)" in body
    assert (
        Shift.objects.covering(dt.datetime(2026, 2, 12, 10, tzinfo=UTC))
        .get(rotation=rotations[0], level=Level.L1)
        .user
        == person
    )


def test_override_form_errors_are_sentences(browser_client, person, rotations):
    member_of(rotations[0].team, "responder", user=person)
    response = browser_client.post(
        "/oncall/rotations/ops-primary/",
        {"level": "L1", "user": "ghost", "starts_at": "2026-02-12T09:00", "ends_at": "2026-02-12T08:00"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no person with username ghost." in body


def test_page_directory_lists_ops_first_and_pages_a_team(browser_client, rotations):
    with time_machine.travel(NOW):
        body = browser_client.get("/oncall/page/").content.decode()
    assert body.index("Page Ops") < body.index("Page Payments")
    for rotation in rotations:
        # Each team's card names who holds each level now, not who is next.
        shown = " · ".join(f"{level}: {holder(rotation, level).profile.name}" for level in rotation.levels)
        assert f'<p class="muted">{escape(shown)}</p>' in body
    with time_machine.travel(NOW):
        response = browser_client.post("/oncall/page/", {"team": "payments", "message": "Card auths failing"})
    page = Page.objects.get()
    assert response["Location"] == f"/oncall/pages/{page.pk}/"
    browser_client.post(f"/oncall/pages/{page.pk}/")
    page.refresh_from_db()
    assert page.status == PageStatus.ACKNOWLEDGED


def test_fairness_report_has_a_chart_and_a_row_per_person(browser_client, rotations):
    with time_machine.travel(NOW):
        response = browser_client.get(
            "/oncall/fairness/",
            {"rotation": "payments-primary", "since": "2026-01-05", "until": "2026-02-05"},
        )
    body = response.content.decode()
    assert "<svg" in body
    # The rotation asked for, not the first one: its people and nobody else's.
    for name in ("gus", "hana"):
        assert f"<td>{escape(Profile.objects.get(user__username=name).name)}</td>" in body
    assert escape(Profile.objects.get(user__username="ana").name) not in body


def test_fairness_counts_hours_weekends_nights_and_pages(rotations):
    from oncall import services
    from oncall.selectors import fairness

    ops = rotations[0]
    services.page_team(team=ops.team, message="x", now=NOW)
    rows = fairness(
        rotation=ops,
        since=dt.datetime(2026, 1, 5, 10, tzinfo=UTC),
        until=dt.datetime(2026, 2, 13, 10, tzinfo=UTC),
    )
    assert sum(row.l1_shifts for row in rows) == 13
    assert sum(row.hours for row in rows) == pytest.approx(13 * 72 * 2)
    for row in rows:
        for level, counted in ((Level.L1, row.l1_shifts), (Level.L2, row.l2_shifts)):
            held = ops.shifts.filter(user__username=row.username, level=level).overlapping(
                dt.datetime(2026, 1, 5, 10, tzinfo=UTC), dt.datetime(2026, 2, 13, 10, tzinfo=UTC)
            )
            assert counted == held.values("number").distinct().count(), (row.username, level)
    assert max(row.l1_shifts for row in rows) - min(row.l1_shifts for row in rows) <= 1
    assert sum(row.pages for row in rows) == 1
    assert all(0 < row.weekend_hours < row.hours and 0 < row.night_hours < row.hours for row in rows)


def test_fairness_counts_weekend_and_night_hours_on_the_persons_own_clock_and_sleep_hours(rotations):
    from oncall.selectors import fairness

    solo = make_rotation(
        slug="solo-primary", people=("solo",), has_l2=False, shift_length_days=1, handoff_time=dt.time(8)
    )
    Profile.objects.filter(user__username="solo").update(
        time_zone="Asia/Tokyo", sleep_start=dt.time(23), sleep_end=dt.time(6)
    )
    # Friday 10:00 to 22:00 UTC is Friday 19:00 to Saturday 07:00 in Tokyo:
    # seven weekend hours there (none in UTC), and asleep 23:00 to 06:00 there
    # (seven hours; nine with the default 22:00 to 07:00, none on UTC's clock).
    (row,) = fairness(
        rotation=solo,
        since=dt.datetime(2026, 1, 9, 10, tzinfo=UTC),
        until=dt.datetime(2026, 1, 9, 22, tzinfo=UTC),
    )
    assert (row.username, row.hours, row.shifts, row.l1_shifts, row.l2_shifts) == ("solo", 12, 1, 1, 0)
    assert row.weekend_hours == 7
    assert row.night_hours == 7


def test_whoisoncall_prints_a_table(rotations):
    out = io.StringIO()
    call_command("whoisoncall", "--team", "ops", "--at", "2026-02-10T12:00:00Z", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["TEAM", "ROTATION", "LEVEL"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["ops", "ops-primary", level, holder(rotations[0], level).username] for level in ("L1", "L2")
    ]
    with pytest.raises(CommandError):
        call_command("whoisoncall", "--team", "nope")
    with pytest.raises(CommandError):
        call_command("whoisoncall", "--at", "soon")


def test_ask_for_a_swap_on_the_rotation_page_and_accept_it_on_the_on_call_page(client, rotations):
    from oncall.models import Swap

    at = dt.datetime(2026, 2, 12, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=rotations[0], level=Level.L1).user
    taker = next(
        member.user
        for member in rotations[0].members.all()
        if not Shift.objects.covering(at).filter(rotation=rotations[0], user=member.user).exists()
    )
    client.force_login(holder)
    with time_machine.travel(NOW):
        response = client.post(
            "/oncall/rotations/ops-primary/",
            {
                "swap-level": "L1",
                "swap-taken_by": taker.username,
                "swap-starts_at": "2026-02-12T11:00",
                "swap-ends_at": "2026-02-12T15:00",
            },
        )
    assert response.status_code == 302, response.content.decode()[-2000:]
    swap = Swap.objects.get()

    page = client.get("/oncall/").content.decode()
    assert f'action="/oncall/swaps/{swap.pk}/withdraw/"' in page

    client.force_login(taker)
    assert "Swaps asked of you" in client.get("/oncall/").content.decode()
    client.post(f"/oncall/swaps/{swap.pk}/accept/")
    assert Shift.objects.covering(at).get(rotation=rotations[0], level=Level.L1).user == taker
    assert "withdraw/" not in client.get("/oncall/").content.decode()


def test_a_swap_is_withdrawn_from_the_on_call_page(client, rotations):
    from oncall.models import RotationMember, Swap
    from oncall.services import ask_swap

    at = dt.datetime(2026, 2, 12, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=rotations[0], level=Level.L1).user
    taker = UserFactory(username="taker")
    RotationMember.objects.create(rotation=rotations[0], user=taker, position=99)
    swap = ask_swap(
        rotation=rotations[0],
        requested_by=holder,
        taken_by=taker,
        starts_at=at,
        ends_at=at + dt.timedelta(hours=2),
    )
    client.force_login(taker)
    client.post(f"/oncall/swaps/{swap.pk}/withdraw/")
    assert Swap.objects.get().status == "asked"  # only the asker can

    client.force_login(holder)
    response = client.post(f"/oncall/swaps/{swap.pk}/withdraw/", follow=True)
    assert Swap.objects.get().status == "withdrawn"
    page = response.content.decode()
    assert "Withdrawn: taker is no longer asked." in page and "withdraw/" not in page
