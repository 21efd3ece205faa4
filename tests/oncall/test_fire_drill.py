"""The fire drill and the profile's "Reaching you" section."""

import pytest
from django.core import mail

from oncall.models import ContactMethod, NotificationRule, NotificationStatus
from oncall.services import notifications
from tests.oncall.delivery import deliver

pytestmark = pytest.mark.django_db


def test_a_test_page_goes_through_every_method_and_shows_each_receipt(api, person, settings):
    settings.MORGUE_OUTBOUND_ALLOW_LOOPBACK = True
    notifications.add_contact_method(user=person, kind="email", address="pat@work.example")
    notifications.add_contact_method(user=person, kind="sms", address="+14155550123")  # SMS not set up here

    response = api.post("/api/v1/me/test-page/")
    assert response.status_code == 202, response.content
    assert [(item["kind"], item["status"]) for item in response.json()] == [
        ("email", "pending"),
        ("sms", "pending"),
    ]
    deliver()

    receipts = api.get("/api/v1/me/test-page/").json()
    assert [(item["kind"], item["status"]) for item in receipts] == [("email", "sent"), ("sms", "failed")]
    assert "TWILIO_ACCOUNT_SID" in receipts[1]["error"]
    (message,) = mail.outbox
    assert message.subject == "[Morgue test page] A fire drill: nothing is wrong"
    assert api.post("/api/v1/me/test-page/", {"urgent": True}, format="json").status_code == 400


def test_the_profile_adds_methods_and_rules_shows_errors_in_place_and_runs_a_drill(client, person):
    client.force_login(person)
    refused = client.post("/profile/", {"form": "contact-method", "kind": "sms", "address": "555-0123"})
    assert refused.status_code == 200 and b"E.164" in refused.content
    assert not ContactMethod.objects.exists()

    added = client.post("/profile/", {"form": "contact-method", "kind": "push", "address": "pat-pages"})
    assert added.status_code == 302
    method = ContactMethod.objects.get()
    client.post("/profile/", {"form": "notification-rule", "contact_method": method.pk, "delay_minutes": 2})
    assert NotificationRule.objects.get().delay_minutes == 2
    page = client.get("/profile/").content.decode()
    assert "After 2 minutes: Push (ntfy) pat-pages" in page

    assert client.post("/profile/", {"form": "test-page"}).status_code == 302
    assert client.get("/profile/").content.decode().count("<td>push</td>") == 1
    drill = notifications.Notification.objects.get()
    assert drill.status == NotificationStatus.PENDING and drill.step is None

    client.post("/profile/", {"form": "remove-method", "id": method.pk})
    assert not ContactMethod.objects.exists() and not NotificationRule.objects.exists()


def test_a_double_click_on_the_test_page_button_runs_one_drill(client, person):
    import re

    client.force_login(person)
    profile = client.get("/profile/").content.decode()
    form = profile[profile.index('value="test-page"') - 400 : profile.index('value="test-page"')]
    token = re.search(r'name="submission" value="([^"]+)"', form).group(1)
    for _ in range(2):
        assert client.post("/profile/", {"form": "test-page", "submission": token}).status_code == 302
    assert notifications.Notification.objects.count() == 1  # one drill, to the one default email
