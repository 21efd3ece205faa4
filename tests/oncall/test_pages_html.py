import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command

from oncall.models import Level, Page, PageStatus, Shift
from tests.factories import UserFactory, make_rotation

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


def test_on_call_page_shows_every_team_and_your_shifts(
    browser_client, rotations, django_assert_max_num_queries
):
    with time_machine.travel(NOW), django_assert_max_num_queries(12):
        response = browser_client.get("/oncall/")
    assert response.status_code == 200
    body = response.content.decode()
    for rotation in rotations:
        for level in rotation.levels:
            holder = Shift.objects.covering(NOW).get(rotation=rotation, level=level).user
            assert holder.username in body or holder.profile.name in body
    assert "Your upcoming shifts" in body


def test_rotation_calendar_and_override_form(browser_client, person, rotations):
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


def test_override_form_errors_are_sentences(browser_client, rotations):
    response = browser_client.post(
        "/oncall/rotations/ops-primary/",
        {"level": "L1", "user": "ghost", "starts_at": "2026-02-12T09:00", "ends_at": "2026-02-12T08:00"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no person with username ghost." in body


def test_page_directory_lists_ops_first_and_pages_a_team(browser_client, rotations):
    body = browser_client.get("/oncall/page/").content.decode()
    assert body.index("Page Ops") < body.index("Page Payments")
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
            "/oncall/fairness/", {"rotation": "ops-primary", "since": "2026-01-05", "until": "2026-02-05"}
        )
    body = response.content.decode()
    assert "<svg" in body
    for name in ("ana", "ben", "cy"):
        assert name in body


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
    assert max(row.l1_shifts for row in rows) - min(row.l1_shifts for row in rows) <= 1
    assert sum(row.pages for row in rows) == 1
    assert all(0 < row.weekend_hours < row.hours and 0 < row.night_hours < row.hours for row in rows)


def test_whoisoncall_prints_a_table(rotations):
    out = io.StringIO()
    call_command("whoisoncall", "--team", "ops", "--at", "2026-02-10T12:00:00Z", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["TEAM", "ROTATION", "LEVEL"]
    holder = Shift.objects.covering(NOW).get(rotation=rotations[0], level=Level.L1).user.username
    assert lines[1].split()[:4] == ["ops", "ops-primary", "L1", holder]
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
    from oncall.models import Swap
    from oncall.services import ask_swap

    at = dt.datetime(2026, 2, 12, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=rotations[0], level=Level.L1).user
    taker = UserFactory(username="taker")
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
