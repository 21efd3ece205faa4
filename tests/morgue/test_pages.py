import pytest
from django.db import connection


@pytest.mark.parametrize("path", ["/", "/profile/", "/api/docs/"])
def test_pages_redirect_anonymous_visitors_to_login(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_login_page_is_open(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b"Log in to Morgue" in response.content


def test_profile_form_saves_time_zone_and_sleep_hours(browser_client, person):
    response = browser_client.post(
        "/profile/",
        {
            "display_name": "Pat Q",
            "email": "pat@example.com",
            "time_zone": "Europe/London",
            "sleep_start": "23:00",
            "sleep_end": "06:30",
            "shift_reminder_minutes": "15",
        },
    )

    assert response.status_code == 302
    person.profile.refresh_from_db()
    assert person.profile.time_zone == "Europe/London"
    assert str(person.profile.sleep_end) == "06:30:00"
    assert person.profile.shift_reminder_minutes == 15


def test_profile_form_names_a_bad_time_zone(browser_client, person):
    response = browser_client.post(
        "/profile/",
        {"display_name": "Pat", "time_zone": "Mars/Base", "sleep_start": "22:00", "sleep_end": "07:00"},
    )

    assert response.status_code == 200
    assert "Mars/Base is not one of the available choices" in response.content.decode()


def test_missing_page_uses_the_layout(browser_client):
    response = browser_client.get("/no-such-page/")

    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"<nav" in response.content


def test_missing_api_resource_is_json(api):
    response = api.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_oversized_api_body_is_refused_in_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = api.patch("/api/v1/me/", {"display_name": "x" * 5000}, format="json")

    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_admin_lists_profiles_for_staff(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    response = client.get("/admin/morgue/profile/")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "url", ["/admin/incidents/revision/?incident=", "/admin/incidents/remediationitem/?owner="]
)
def test_a_number_too_large_for_the_database_is_a_bad_request_not_an_error(client, staff, url):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.get(f"{url}{10**20}")
    # PostgreSQL compares it as a numeric and finds nothing; SQLite cannot bind it.
    if connection.vendor == "sqlite":
        assert response.status_code == 400
        assert "too large to look up" in response.content.decode()
    else:
        assert response.status_code == 200


def test_the_favicon_is_served_without_signing_in(client):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url == "/static/morgue/favicon.svg"
    with open(finders.find("morgue/favicon.svg")) as icon:
        assert icon.read().startswith("<svg")


@pytest.mark.django_db
def test_the_api_reference_pages_load_nothing_from_the_internet(browser_client):
    for address in ("/api/redoc/", "/api/docs/"):
        page = browser_client.get(address).content.decode()
        assert "https://" not in page.replace("https://morgue", ""), address


def test_every_model_is_named_in_plain_english_in_the_admin():
    from django.apps import apps

    for model in apps.get_models():
        plural = str(model._meta.verbose_name_plural)
        assert not (plural.endswith("ys") and plural[-3] not in "aeiou"), plural
