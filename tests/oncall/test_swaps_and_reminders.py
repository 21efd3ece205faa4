"""Swaps are asked only of people who can take them, who are told by email; shifts are reminded once."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from morgue.celery import app
from morgue.models import Profile
from oncall import services, tasks
from oncall.exceptions import OverrideInvalid
from oncall.models import Level, Shift, Swap
from tests.factories import ProfileFactory, UserFactory, make_api_token, make_rotation

UTC = dt.UTC
pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def ops():
    return make_rotation(people=("ana", "ben", "cy", "dee"), now=dt.datetime(2026, 1, 1, tzinfo=UTC))


def _holder(rotation, at=AT, level=Level.L1):
    return Shift.objects.covering(at).get(rotation=rotation, level=level).user


def _free_member(rotation, since=AT, until=AT + dt.timedelta(hours=4)):
    busy = Shift.objects.overlapping(since, until).values("user")
    return rotation.members.exclude(user__in=busy).first().user


def _asker(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_token(user, days=None)}")
    return client


def _body(taken_by, hours=4):
    return {
        "rotation": "ops-primary",
        "level": "L1",
        "taken_by": taken_by.username,
        "starts_at": AT.isoformat(),
        "ends_at": (AT + dt.timedelta(hours=hours)).isoformat(),
    }


def test_a_swap_asked_of_someone_outside_the_rotation_is_refused_naming_the_field(ops):
    outsider = ProfileFactory(user=UserFactory(username="olga")).user

    response = _asker(_holder(ops)).post("/api/v1/swaps/", _body(outsider), format="json")

    assert response.status_code == 400
    assert "not a member" in response.json()["errors"]["taken_by"][0]
    assert not Swap.objects.exists()


def test_a_swap_asked_of_the_other_level_in_the_window_is_refused(ops):
    l2 = _holder(ops, level=Level.L2)

    response = _asker(_holder(ops)).post("/api/v1/swaps/", _body(l2), format="json")

    assert response.status_code == 400
    assert "already L2 of Ops Primary" in response.json()["errors"]["taken_by"][0]
    assert not Swap.objects.exists()


def test_a_swap_asked_of_someone_on_call_for_another_team_is_refused(ops):
    payments = make_rotation(
        slug="payments-primary", people=("gus", "hana"), now=dt.datetime(2026, 1, 1, tzinfo=UTC)
    )
    busy_elsewhere = _holder(payments)
    ops.members.create(user=busy_elsewhere, position=99)

    with pytest.raises(OverrideInvalid) as refused:
        services.ask_swap(
            rotation=ops,
            requested_by=_holder(ops),
            taken_by=busy_elsewhere,
            starts_at=AT,
            ends_at=AT + dt.timedelta(hours=4),
        )

    assert refused.value.field == "taken_by" and "Payments Primary" in refused.value.message
    assert not Swap.objects.exists()


def test_the_rotation_page_shows_the_refusal_on_the_field(client, ops):
    outsider = ProfileFactory(user=UserFactory(username="olga")).user
    client.force_login(_holder(ops))
    with time_machine.travel(dt.datetime(2026, 2, 1, tzinfo=UTC)):
        response = client.post(
            "/oncall/rotations/ops-primary/",
            {
                "swap-level": "L1",
                "swap-taken_by": outsider.username,
                "swap-starts_at": "2026-02-10T12:00",
                "swap-ends_at": "2026-02-10T16:00",
            },
        )
    assert response.status_code == 200
    assert "olga is not a member of Ops Primary." in response.content.decode()
    assert not Swap.objects.exists()


def test_the_person_asked_is_emailed_once_with_a_link_to_answer(ops, django_capture_on_commit_callbacks):
    taker = _free_member(ops)
    with (
        mock.patch.object(app, "send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = _asker(_holder(ops)).post("/api/v1/swaps/", _body(taker), format="json")
    assert response.status_code == 201, response.json()
    swap_id = response.json()["id"]
    assert send_task.call_args_list == [mock.call("oncall.tasks.tell_swap_asked", args=(swap_id,))]

    assert tasks.tell_swap_asked(swap_id) is True
    assert tasks.tell_swap_asked(swap_id) is False  # a redelivered task sends nothing

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [taker.email]
    assert "asks you to take Ops Primary L1" in message.subject
    assert "/oncall/" in message.body and "Accept or decline" in message.body


def test_a_swap_withdrawn_before_the_email_goes_is_not_emailed(ops):
    taker = _free_member(ops)
    holder = _holder(ops)
    swap = services.ask_swap(
        rotation=ops, requested_by=holder, taken_by=taker, starts_at=AT, ends_at=AT + dt.timedelta(hours=4)
    )
    services.withdraw_swap(swap=swap, user=holder)

    assert tasks.tell_swap_asked(swap.pk) is False
    assert mail.outbox == []


# --- Reminders ------------------------------------------------------------------------------------


def _next_shift(user, after):
    return Shift.objects.filter(user=user, starts_at__gt=after).order_by("starts_at").first()


def test_each_person_is_reminded_once_within_their_lead_time(ops):
    shift = Shift.objects.filter(starts_at__gt=AT, level=Level.L1).order_by("starts_at").first()

    with time_machine.travel(shift.starts_at - dt.timedelta(minutes=61), tick=False):
        assert tasks.send_shift_reminders() == 0  # not yet: the default lead is an hour
    with time_machine.travel(shift.starts_at - dt.timedelta(minutes=59), tick=False):
        first = tasks.send_shift_reminders()
    with time_machine.travel(shift.starts_at - dt.timedelta(minutes=57), tick=False):
        second = tasks.send_shift_reminders()

    reminded = [message for message in mail.outbox if message.to == [shift.user.email]]
    assert first >= 1 and second == 0
    assert len(reminded) == 1
    assert "You are L1 of Ops Primary" in reminded[0].subject


def test_a_shift_that_started_already_gets_no_reminder(ops):
    shift = Shift.objects.filter(starts_at__gt=AT, level=Level.L1).order_by("starts_at").first()
    Profile.objects.filter(user__in=[m.user for m in ops.members.all()]).update(shift_reminder_minutes=0)
    Profile.objects.filter(user=shift.user).update(shift_reminder_minutes=60)

    with time_machine.travel(shift.starts_at + dt.timedelta(minutes=1), tick=False):
        assert tasks.send_shift_reminders() == 0
    assert mail.outbox == []


def test_reminders_off_send_nothing(ops):
    Profile.objects.update(shift_reminder_minutes=0)
    shift = Shift.objects.filter(starts_at__gt=AT).order_by("starts_at").first()

    with time_machine.travel(shift.starts_at - dt.timedelta(minutes=5), tick=False):
        assert tasks.send_shift_reminders() == 0
    assert mail.outbox == []


def test_an_override_is_reminded_as_a_shift(ops):
    taker = _free_member(ops)
    Profile.objects.exclude(user=taker).update(shift_reminder_minutes=0)
    Profile.objects.filter(user=taker).update(shift_reminder_minutes=30)
    starts = AT + dt.timedelta(hours=1)
    services.create_override(
        rotation=ops, level=Level.L1, user=taker, starts_at=starts, ends_at=starts + dt.timedelta(hours=2)
    )

    with time_machine.travel(starts - dt.timedelta(minutes=31), tick=False):
        assert tasks.send_shift_reminders() == 0
    with time_machine.travel(starts - dt.timedelta(minutes=29), tick=False):
        assert tasks.send_shift_reminders() == 1
    assert [message.to for message in mail.outbox] == [[taker.email]]


def test_the_lead_time_is_honoured_across_a_dst_change():
    # London goes to summer time at 01:00 UTC on 29 March 2026: a shift at 02:30
    # UTC with a three-hour lead is reminded at 23:30 UTC, three real hours before.
    rotation = make_rotation(
        people=("ana", "ben", "cy"), time_zone="Europe/London", now=dt.datetime(2026, 3, 1, tzinfo=UTC)
    )
    starts = dt.datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    user = _free_member(rotation, since=starts, until=starts + dt.timedelta(hours=4))
    Profile.objects.update(shift_reminder_minutes=0)
    Profile.objects.filter(user=user).update(shift_reminder_minutes=180)
    services.create_override(
        rotation=rotation, level=Level.L1, user=user, starts_at=starts, ends_at=starts + dt.timedelta(hours=4)
    )

    with time_machine.travel(dt.datetime(2026, 3, 28, 23, 29, tzinfo=UTC), tick=False):
        assert tasks.send_shift_reminders() == 0
    with time_machine.travel(dt.datetime(2026, 3, 28, 23, 31, tzinfo=UTC), tick=False):
        assert tasks.send_shift_reminders() == 1
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_the_lead_time_is_set_on_the_api_and_bounded(api, person):
    assert api.get("/api/v1/me/").json()["shift_reminder_minutes"] == 60

    assert api.patch("/api/v1/me/", {"shift_reminder_minutes": 15}, format="json").status_code == 200
    assert Profile.objects.get(user=person).shift_reminder_minutes == 15
    refused = api.patch("/api/v1/me/", {"shift_reminder_minutes": 100000}, format="json")
    assert refused.status_code == 400 and "shift_reminder_minutes" in refused.json()["errors"]
    refused = api.patch("/api/v1/me/", {"shift_reminder_minutes": -1}, format="json")
    assert refused.status_code == 400
    assert Profile.objects.get(user=person).shift_reminder_minutes == 15


def test_the_beat_runs_the_reminders():
    assert "oncall.tasks.send_shift_reminders" in {entry["task"] for entry in app.conf.beat_schedule.values()}


def test_the_lead_time_is_set_on_the_profile_page_and_kept_when_left_out(browser_client, person):
    form = {"display_name": "Pat", "email": "pat@example.com", "time_zone": "UTC"}
    form |= {"sleep_start": "22:00", "sleep_end": "07:00"}

    assert browser_client.post("/profile/", {**form, "shift_reminder_minutes": "0"}).status_code == 302
    assert Profile.objects.get(user=person).shift_reminder_minutes == 0
    assert browser_client.post("/profile/", form).status_code == 302
    assert Profile.objects.get(user=person).shift_reminder_minutes == 0
    assert "Remind me of a shift" in browser_client.get("/profile/").content.decode()
