from django.contrib.auth.models import Group

from morgue.models import Profile


def test_people_are_listed_with_their_profiles(api, person, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/people/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["username"] == "pat"


def test_staff_can_create_a_person(staff_api):
    response = staff_api.post(
        "/api/v1/people/",
        {"username": "ren", "email": "ren@example.com", "display_name": "Ren Ito", "time_zone": "Asia/Tokyo"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    profile = Profile.objects.get(user__username="ren")
    assert profile.time_zone == "Asia/Tokyo"
    assert profile.name == "Ren Ito"
    assert Group.objects.get(name="engineers").user_set.filter(username="ren").exists()


def test_a_person_who_is_not_staff_cannot_create_people(api):
    response = api.post("/api/v1/people/", {"username": "ren"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only an admin (staff) may create people."


def test_duplicate_username_and_bad_zone_are_named(staff_api, person):
    response = staff_api.post(
        "/api/v1/people/", {"username": "pat", "time_zone": "Nowhere/Land"}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["username"] == ["A person with username pat already exists."]
    assert "Nowhere/Land" in errors["time_zone"][0]
