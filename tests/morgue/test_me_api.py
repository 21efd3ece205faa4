import datetime as dt

from rest_framework.test import APIClient

from morgue.models import Profile


def test_me_returns_the_signed_in_profile(api, person):
    response = api.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json() == {
        "username": "pat",
        "display_name": person.profile.display_name,
        "email": "pat@example.com",
        "time_zone": "UTC",
        "sleep_start": "22:00:00",
        "sleep_end": "07:00:00",
        "shift_reminder_minutes": 60,
        "calendar_token_prefix": person.profile.calendar_token[:8],
    }


def test_a_new_calendar_token_is_given_once_by_the_api(api, person, client):
    old = person.profile.calendar_token

    response = api.post("/api/v1/me/calendar-token/")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["calendar_url"] == f"http://127.0.0.1:8000/oncall/people/pat.ics?token={body['calendar_token']}"
    )
    assert body["webcal_url"].startswith("webcal://127.0.0.1:8000/")
    assert client.get(f"/oncall/people/pat.ics?token={body['calendar_token']}").status_code == 200
    assert client.get(f"/oncall/people/pat.ics?token={old}").status_code == 404
    assert api.get("/api/v1/me/").json()["calendar_token_prefix"] == body["calendar_token"][:8]


def test_me_can_be_changed_with_patch(api, person):
    response = api.patch(
        "/api/v1/me/",
        {"time_zone": "Australia/Lord_Howe", "sleep_start": "23:30", "email": "pat@new.example"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    profile = Profile.objects.get(user=person)
    assert profile.time_zone == "Australia/Lord_Howe"
    assert profile.sleep_start == dt.time(23, 30)
    assert profile.user.email == "pat@new.example"


def test_unknown_time_zone_is_refused_with_a_sentence(api, person):
    response = api.patch("/api/v1/me/", {"time_zone": "Mars/Olympus", "display_name": "P"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert "Mars/Olympus is not a known IANA time zone" in body["detail"]
    assert "time_zone" in body["errors"]
    assert Profile.objects.get(user=person).display_name != "P"  # nothing half-saved


def test_malformed_json_is_a_400_in_json(api):
    response = api.generic("PATCH", "/api/v1/me/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_me_needs_authentication(db):
    response = APIClient().get("/api/v1/me/")

    assert response.status_code in (401, 403)
    assert "credentials" in response.json()["detail"]


def test_a_person_made_by_createsuperuser_gets_a_profile_on_first_use(db, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = APIClient()
    client.force_authenticate(user)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["time_zone"] == "UTC"
