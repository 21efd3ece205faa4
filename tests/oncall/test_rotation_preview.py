"""POST /api/v1/rotations/{slug}/preview/ and the email an edit sends: only the people whose shifts change."""

import datetime as dt
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail

from oncall import tasks
from oncall.models import Rotation, Shift
from tests.factories import ProfileFactory, UserFactory, make_rotation

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 1, tzinfo=UTC)
pytestmark = pytest.mark.django_db
BUSINESS_HOURS = [
    {"start_day": day, "start_time": "09:00", "end_day": day, "end_time": "17:00"}
    for day in ("mon", "tue", "wed", "thu", "fri")
]


@pytest.fixture
def layers():
    base = make_rotation(
        slug="dev-primary", people=("ana", "ben"), time_zone="Europe/London", layer=1, now=NOW
    )
    daytime = make_rotation(
        team=base.team,
        slug="dev-daytime",
        people=("cy", "dee"),
        time_zone="Europe/London",
        layer=2,
        has_l2=False,
        shift_length_days=7,
        handoff_time=dt.time(9),
        first_shift_date=dt.date(2026, 3, 2),
        restrictions=BUSINESS_HOURS,
        now=NOW,
    )
    ProfileFactory(user=UserFactory(username="eve", email="eve@example.com"))
    return base, daytime


def rows():
    return sorted(
        Shift.all_pieces.values_list("rotation_id", "level", "user_id", "starts_at", "ends_at", "masked")
    )


def test_the_preview_lists_per_person_the_shifts_that_appear_and_disappear_and_saves_nothing(
    staff_api, layers
):
    _, daytime = layers
    saved = rows()
    body = {"members": [{"username": "cy", "experienced": True}, {"username": "eve"}]}
    with time_machine.travel(NOW, tick=False):
        response = staff_api.post("/api/v1/rotations/dev-daytime/preview/", body, format="json")

    assert response.status_code == 200, response.json()
    changes = {change["username"]: change for change in response.json()}
    # cy keeps her weeks; ana and ben, under the layer, are masked where they were before.
    assert set(changes) == {"dee", "eve"}
    assert changes["dee"]["appear"] == [] and changes["eve"]["disappear"] == []
    assert [window["starts_at"] for window in changes["eve"]["appear"]] == [
        window["starts_at"] for window in changes["dee"]["disappear"]
    ]
    first = changes["eve"]["appear"][0]
    assert first == {
        "rotation": "dev-daytime",
        "level": "L1",
        "starts_at": "2026-03-09T09:00:00+00:00",
        "ends_at": "2026-03-09T17:00:00+00:00",
    }
    assert rows() == saved
    assert list(Rotation.objects.get(pk=daytime.pk).members.values_list("user__username", flat=True)) == [
        "cy",
        "dee",
    ]


def test_a_preview_of_a_new_layer_shows_who_underneath_loses_shifts(staff_api, layers):
    with time_machine.travel(NOW, tick=False):
        response = staff_api.post("/api/v1/rotations/dev-daytime/preview/", {"layer": None}, format="json")
    # Unlayered, the daytime rotation no longer masks the base: ana and ben get their daytimes back.
    assert {change["username"] for change in response.json()} == {"ana", "ben"}

    def hours(windows):
        return sum(
            (dt.datetime.fromisoformat(window["ends_at"]) - dt.datetime.fromisoformat(window["starts_at"]))
            / dt.timedelta(hours=1)
            for window in windows
        )

    # Their masked-apart windows are replaced by whole ones: more time on call, never less.
    for change in response.json():
        assert hours(change["appear"]) > hours(change["disappear"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shift_length_hours": 0}, "shift_length_hours"),
        (
            {
                "restrictions": [
                    {"start_day": "mon", "start_time": "17:00", "end_day": "mon", "end_time": "09:00"}
                ]
            },
            "restrictions",
        ),
        ({"members": [{"username": "ghost"}]}, "members"),
    ],
)
def test_a_bad_preview_is_a_400_naming_the_field(staff_api, layers, body, field):
    saved = rows()
    response = staff_api.post("/api/v1/rotations/dev-daytime/preview/", body, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert rows() == saved


def test_only_managers_preview(api, layers):
    assert api.post("/api/v1/rotations/dev-daytime/preview/", {"layer": 3}, format="json").status_code == 403


def test_saving_the_edit_emails_only_the_people_whose_shifts_changed_with_the_list(
    staff_api, layers, django_capture_on_commit_callbacks
):
    body = {"members": [{"username": "cy", "experienced": True}, {"username": "eve"}]}
    with (
        time_machine.travel(NOW, tick=False),
        mock.patch("morgue.celery.app.send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert staff_api.patch("/api/v1/rotations/dev-daytime/", body, format="json").status_code == 200
    sent = [
        call.kwargs["args"]
        for call in send_task.call_args_list
        if call.args[0] == "oncall.tasks.tell_schedule_change"
    ]
    assert len(sent) == 2  # dee and eve; not cy, ana or ben
    for args in sent:
        assert tasks.tell_schedule_change(*args) is True
        assert tasks.tell_schedule_change(*args) is False  # once per edit
    by_person = {message.to[0]: message for message in mail.outbox}
    assert set(by_person) == {"eve@example.com", "dee@example.com"}
    assert "New shifts:" in by_person["eve@example.com"].body
    assert "Mon 09 Mar 09:00 – Mon 09 Mar 17:00" in by_person["eve@example.com"].body
    assert "No longer yours:" in by_person["dee@example.com"].body


def test_a_manager_previews_on_the_page_then_saves_and_only_the_changed_people_are_told(
    client, staff, layers, django_capture_on_commit_callbacks
):
    _, daytime = layers
    client.force_login(staff)
    url = "/oncall/rotations/dev-daytime/schedule/"
    with time_machine.travel(NOW, tick=False):
        page = client.get(url)
        assert page.status_code == 200
        form = page.context["form"]
        data = {name: form[name].value() or "" for name in form.fields}
        assert data["restrictions"].splitlines()[0] == "Mon 09:00 - Mon 17:00"
        data["members"] = "cy\neve"
        saved = rows()
        preview = client.post(url, {**data, "preview": "1"})
        assert preview.status_code == 200
        assert rows() == saved
        assert [change.user.username for change in preview.context["changes"]] == ["dee", "eve"]
        assert "No longer theirs:" in preview.content.decode()

        refused = client.post(url, {**data, "restrictions": "Mon 17:00 - Mon 09:00", "preview": "1"})
        assert refused.status_code == 200 and "ends before it starts" in refused.content.decode()
        assert refused.context["form"].errors["restrictions"]

        with (
            mock.patch("morgue.celery.app.send_task") as send_task,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(url, {**data, "save": "1"})
    assert response.status_code == 302 and response["Location"] == "/oncall/rotations/dev-daytime/"
    assert list(daytime.members.values_list("user__username", flat=True)) == ["cy", "eve"]
    told = {call.kwargs["args"][1] for call in send_task.call_args_list}
    assert told == set(User.objects.filter(username__in=["dee", "eve"]).values_list("pk", flat=True))


def test_only_managers_change_a_schedule_on_the_page(client, person, layers):
    client.force_login(person)
    assert client.get("/oncall/rotations/dev-daytime/schedule/").status_code == 403
