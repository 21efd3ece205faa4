"""/api/v1/me/contact-methods/ and /notification-rules/: your own, checked, nothing half-saved."""

import pytest

from oncall.models import ContactMethod, NotificationRule
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
METHODS = "/api/v1/me/contact-methods/"
RULES = "/api/v1/me/notification-rules/"


def test_a_person_adds_methods_and_rules_and_reads_them_back(api, person):
    sms = api.post(
        METHODS, {"kind": "sms", "address": "+1 415 555 0123", "label": "work phone"}, format="json"
    )
    assert sms.status_code == 201, sms.json()
    assert sms.json()["address"] == "+14155550123"
    push = api.post(METHODS, {"kind": "push", "address": "pat-pages"}, format="json").json()

    assert (
        api.post(RULES, {"contact_method": push["id"], "delay_minutes": 0}, format="json").status_code == 201
    )
    response = api.post(RULES, {"contact_method": sms.json()["id"], "delay_minutes": 2}, format="json")
    assert response.status_code == 201

    assert [item["kind"] for item in api.get(METHODS).json()["results"]] == ["sms", "push"]
    rules = api.get(RULES).json()["results"]
    assert [(rule["contact_method"], rule["delay_minutes"]) for rule in rules] == [
        (push["id"], 0),
        (sms.json()["id"], 2),
    ]

    assert api.delete(f"{METHODS}{push['id']}/").status_code == 204
    assert NotificationRule.objects.filter(user=person).count() == 1  # its rule went with it


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax", "address": "+14155550123"}, "kind"),
        ({"kind": "sms", "address": "0415 555 0123"}, "address"),
        ({"kind": "email", "address": "pat"}, "address"),
        ({"kind": "email", "address": "pat@example.com", "priority": 1}, "priority"),
        ({"address": "pat@example.com"}, "kind"),
    ],
)
def test_bad_contact_methods_are_refused_naming_the_field(api, body, field):
    response = api.post(METHODS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not ContactMethod.objects.exists()


def test_a_rule_cannot_name_someone_elses_method_or_wait_past_a_day(api):
    other = ContactMethod.objects.create(user=UserFactory(), kind="email", address="x@example.com")
    response = api.post(RULES, {"contact_method": other.pk, "delay_minutes": 0}, format="json")
    assert response.status_code == 400 and "contact_method" in response.json()["errors"]
    mine = api.post(METHODS, {"kind": "email", "address": "pat@example.com"}, format="json").json()
    response = api.post(RULES, {"contact_method": mine["id"], "delay_minutes": 2000}, format="json")
    assert response.status_code == 400 and "delay_minutes" in response.json()["errors"]
    response = api.post(RULES, {"contact_method": mine["id"], "delay_minutes": 1, "after": 2}, format="json")
    assert response.status_code == 400 and "after" in response.json()["errors"]
    assert not NotificationRule.objects.exists()


def test_nobody_sees_or_deletes_another_persons_methods(api):
    other = ContactMethod.objects.create(user=UserFactory(), kind="email", address="x@example.com")
    assert api.get(METHODS).json()["results"] == []
    assert api.delete(f"{METHODS}{other.pk}/").status_code == 404
    assert ContactMethod.objects.filter(pk=other.pk).exists()


def test_the_admin_checks_addresses_like_the_api(client, staff):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    body = {"user": staff.pk, "kind": "sms", "address": "555 0123", "label": ""}
    refused = client.post("/admin/oncall/contactmethod/add/", body)
    assert refused.status_code == 200 and b"E.164" in refused.content
    client.post("/admin/oncall/contactmethod/add/", {**body, "address": "+1 415 555 0123"})
    assert ContactMethod.objects.get().address == "+14155550123"
