"""Each kind of change lands in the audit trail with who, from where, and each field's before and after."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from alerts_review import paging
from alerts_review import services as alert_services
from incidents.models import RemediationStatus, Status
from incidents.services import incident as incident_services
from incidents.services import remediation as remediation_services
from morgue import audit
from morgue import services as people_services
from morgue.models import AuditEntry, Profile
from oncall import services as oncall_services
from oncall.models import Level, RotationMember, Shift
from oncall.services import notifications
from tests.factories import (
    AlertFactory,
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
    category,
    make_rotation,
)

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.7"
UTC = dt.UTC


def only_entry(**lookup) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(**lookup))
    assert len(entries) == 1, entries
    return entries[0]


# --- Incidents --------------------------------------------------------------------------


def test_an_incident_edit_records_its_fields_status_and_postmortem_sections(staff):
    incident = IncidentFactory(title="Queue stuck", tldr="")

    with audit.acting_as(staff, ip=ADDRESS):
        incident_services.update_incident(
            incident=incident,
            by=staff,
            version=incident.version,
            changes={"title": "Queue stuck for an hour", "tldr": "Workers starved.", "severity": 1},
        )
    entry = only_entry(kind="incidents.incident", action="changed")

    assert (entry.actor_id, entry.actor_label, entry.ip) == (staff.pk, "sam-staff", ADDRESS)
    assert entry.object_id == str(incident.pk) and entry.object_label == "Queue stuck for an hour"
    assert entry.changes["title"] == ["Queue stuck", "Queue stuck for an hour"]
    assert entry.changes["tldr"] == ["", "Workers starved."]
    assert entry.labels["tldr"] == "tl;dr"
    assert "status" not in entry.changes


def test_a_status_change_is_recorded(staff):
    incident = IncidentFactory()

    with audit.acting_as(staff, ip=ADDRESS):
        incident_services.change_status(incident=incident, status=Status.RESOLVED, by=staff)

    entry = only_entry(kind="incidents.incident", action="changed")
    assert entry.changes["status"] == ["open", "resolved"]
    assert entry.labels["status"] == "Status"


def test_an_edit_that_changes_nothing_records_nothing(staff):
    incident = IncidentFactory(title="Same")
    incident_services.update_incident(
        incident=incident, by=staff, version=incident.version, changes={"title": "Same"}
    )
    assert not AuditEntry.objects.filter(action="changed").exists()


def test_deleting_and_restoring_an_incident_from_its_pages_is_recorded(client, staff):
    incident = IncidentFactory(title="DNS outage")
    client.force_login(staff)

    client.post(f"/incidents/{incident.pk}/delete/", REMOTE_ADDR="198.51.100.4")
    client.post(f"/incidents/{incident.pk}/restore/", REMOTE_ADDR="198.51.100.5")

    deleted = only_entry(kind="incidents.incident", action="deleted")
    restored = only_entry(kind="incidents.incident", action="restored")
    assert (deleted.actor_label, deleted.ip, deleted.object_label) == (
        "sam-staff",
        "198.51.100.4",
        "DNS outage",
    )
    assert deleted.changes["deleted_at"][0] is None and deleted.changes["deleted_at"][1]
    assert restored.changes["deleted_at"] == [deleted.changes["deleted_at"][1], None]
    assert restored.ip == "198.51.100.5"
    assert deleted.request_id and deleted.request_id != restored.request_id


# --- Remediation items ------------------------------------------------------------------


def test_an_items_status_owner_and_due_date_changes_are_recorded(staff):
    old_owner, new_owner = UserFactory(username="olive"), UserFactory(username="nico")
    item = RemediationItemFactory(owner=old_owner, due_date=dt.date(2026, 12, 20))

    with audit.acting_as(staff, ip=ADDRESS):
        remediation_services.update_item(
            item=item,
            changes={"owner": new_owner, "due_date": dt.date(2027, 1, 15)},
            status=RemediationStatus.IN_PROGRESS,
        )

    entry = only_entry(kind="incidents.remediationitem", action="changed")
    assert (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)
    assert entry.changes["owner"] == ["olive", "nico"]
    assert entry.changes["due_date"] == ["2026-12-20", "2027-01-15"]
    assert entry.changes["status"] == ["open", "in-progress"]


def test_an_items_status_changed_on_its_page_is_recorded(client, staff):
    item = RemediationItemFactory()
    client.force_login(staff)

    client.post(f"/remediations/{item.pk}/status/", {"status": "done"}, REMOTE_ADDR="198.51.100.8")

    entry = only_entry(kind="incidents.remediationitem", action="changed")
    assert entry.changes["status"] == ["open", "done"]
    assert (entry.actor_label, entry.ip) == ("sam-staff", "198.51.100.8")


# --- On call ------------------------------------------------------------------------------


def test_a_rotation_edit_records_its_fields_and_members(staff):
    rotation = make_rotation(people=("ana", "ben", "cy"))
    assert only_entry(kind="oncall.rotation", action="created").changes["members"] == [
        None,
        ["ana", "ben", "cy"],
    ]
    members = [
        oncall_services.MemberSpec(get_user_model().objects.get(username=name), True)
        for name in ("cy", "ana")
    ]

    with audit.acting_as(staff, ip=ADDRESS):
        oncall_services.update_rotation(
            rotation=rotation,
            members=members,
            shift_length_days=7,
            now=dt.datetime(2026, 1, 2, tzinfo=UTC),
        )

    entry = only_entry(kind="oncall.rotation", action="changed")
    assert (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)
    assert entry.changes["shift_length_days"] == [3, 7]
    assert entry.changes["members"] == [["ana", "ben", "cy"], ["cy", "ana"]]


def test_an_override_is_recorded(staff):
    rotation = make_rotation()
    stand_in = UserFactory(username="stand-in")

    with audit.acting_as(None, ip=ADDRESS):
        override = oncall_services.create_override(
            rotation=rotation,
            level=Level.L1,
            user=stand_in,
            starts_at=dt.datetime(2026, 2, 1, tzinfo=UTC),
            ends_at=dt.datetime(2026, 2, 2, tzinfo=UTC),
            reason="Dentist",
            created_by=staff,
        )

    entry = only_entry(kind="oncall.override", action="created")
    assert entry.object_id == str(override.pk)
    assert (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)
    assert entry.changes["user"] == [None, "stand-in"]
    assert entry.changes["reason"] == [None, "Dentist"]


def test_a_swap_asked_and_answered_is_recorded():
    rotation = make_rotation()
    at = dt.datetime(2026, 2, 12, 12, tzinfo=UTC)
    holder = Shift.objects.covering(at).get(rotation=rotation, level=Level.L1).user
    taker = UserFactory(username="taker")
    RotationMember.objects.create(rotation=rotation, user=taker, position=99)

    with audit.acting_as(None, ip=ADDRESS):
        swap = oncall_services.ask_swap(
            rotation=rotation,
            requested_by=holder,
            taken_by=taker,
            starts_at=at,
            ends_at=at + dt.timedelta(hours=2),
        )
        oncall_services.answer_swap(swap=swap, user=taker, accept=False)

    asked = only_entry(kind="oncall.swap", action="created")
    answered = only_entry(kind="oncall.swap", action="answered")
    assert asked.actor_label == holder.username and asked.changes["taken_by"] == [None, "taker"]
    assert (answered.actor_label, answered.ip) == ("taker", ADDRESS)
    assert answered.changes["status"] == ["asked", "declined"]


def test_contact_methods_and_notification_rules_are_recorded(person):
    with audit.acting_as(person, ip=ADDRESS):
        method = notifications.add_contact_method(user=person, kind="email", address="pat@example.com")
        rule = notifications.add_notification_rule(user=person, contact_method=method, delay_minutes=0)
        rule = notifications.add_notification_rule(user=person, contact_method=method, delay_minutes=5)
        notifications.remove_notification_rule(rule=rule)
        notifications.remove_contact_method(method=method)

    added = only_entry(kind="oncall.contactmethod", action="created")
    assert added.changes["address"] == [None, "pat@example.com"] and added.ip == ADDRESS
    changed = only_entry(kind="oncall.notificationrule", action="changed")
    assert changed.changes == {"delay_minutes": [0, 5]} and changed.actor_label == "pat"
    assert only_entry(kind="oncall.notificationrule", action="deleted").changes["delay_minutes"] == [5, None]
    assert only_entry(kind="oncall.contactmethod", action="deleted").changes["address"] == [
        "pat@example.com",
        None,
    ]


def test_a_teams_webhook_and_notification_settings_are_recorded(staff):
    team = TeamFactory(slug="payments", name="Payments", email="payments@example.com")

    with audit.acting_as(staff, ip=ADDRESS):
        oncall_services.update_team(
            team=team, webhook_url="https://chat.example.com/hooks/1", email="pay-oncall@example.com"
        )

    entry = only_entry(kind="morgue.team", action="changed")
    assert entry.changes == {
        "email": ["payments@example.com", "pay-oncall@example.com"],
        "webhook_url": ["", "https://chat.example.com/hooks/1"],
    }
    assert entry.labels["webhook_url"] == "Webhook url"
    assert (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)


# --- Alerts review ----------------------------------------------------------------------------


def test_a_paging_policy_saved_on_the_teams_paging_page_is_recorded(client, staff):
    team = TeamFactory(slug="search", name="Search")
    client.force_login(staff)

    client.post(
        "/alerts/paging/search/",
        {"form": "policy", "rules": "page: severity=critical", "grouping_window_minutes": 15},
        REMOTE_ADDR="198.51.100.9",
    )

    entry = only_entry(kind="alerts_review.pagingpolicy", action="changed")
    assert (entry.actor_label, entry.ip) == ("sam-staff", "198.51.100.9")
    before, after = entry.changes["rules"]
    assert before != after and "critical" in str(after)
    assert entry.object_label == str(paging.policy_for(team))


def test_an_alert_classification_is_recorded(staff):
    alert = AlertFactory()

    with audit.acting_as(staff, ip=ADDRESS):
        alert_services.classify_alert(alert=alert, by=staff, category=category("threshold"), note="Flapping")

    entry = only_entry(kind="alerts_review.alert", action="classified")
    assert entry.changes["category"][0] is None and entry.changes["category"][1]
    assert entry.changes["note"] == ["", "Flapping"]
    assert (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)


def test_an_alert_source_and_its_revoked_token_are_recorded_without_the_token(client, staff):
    staff.is_superuser = True  # the admin's own permissions
    staff.save()
    with audit.acting_as(staff, ip=ADDRESS):
        source = alert_services.create_alert_source(name="prod-am", kind="alertmanager")
    client.force_login(staff)
    client.post(
        "/admin/alerts_review/alertsource/",
        {"action": "revoke", "_selected_action": [source.pk]},
        REMOTE_ADDR="198.51.100.10",
    )

    created = only_entry(kind="alerts_review.alertsource", action="created")
    revoked = only_entry(kind="alerts_review.alertsource", action="changed")
    assert created.changes["name"] == [None, "prod-am"]
    assert source.token not in str(created.changes)
    assert created.changes["token_hash"][1].startswith("hidden:")
    assert revoked.changes["revoked_at"][0] is None and revoked.changes["revoked_at"][1]
    assert (revoked.actor_label, revoked.ip) == ("sam-staff", "198.51.100.10")


# --- People, sign-ins ------------------------------------------------------------------------


def test_a_profile_change_and_a_new_calendar_token_are_recorded(client, person):
    profile = Profile.objects.for_user(person)
    with audit.acting_as(person, ip=ADDRESS):
        people_services.update_profile(profile=profile, time_zone="Europe/Paris", email="pat@new.example")
    old_token = profile.calendar_token
    client.force_login(person)
    client.post("/oncall/calendar-token/", REMOTE_ADDR="198.51.100.11")

    changed = only_entry(kind="morgue.profile", action="changed")
    assert changed.changes["time_zone"] == ["UTC", "Europe/Paris"]
    assert changed.changes["email"][1] == "pat@new.example"
    reset = only_entry(kind="morgue.profile", action="token reset")
    assert old_token not in str(reset.changes) and reset.ip == "198.51.100.11"
    assert reset.changes["calendar_token_hash"][0] != reset.changes["calendar_token_hash"][1]
    assert all(value.startswith("hidden:") for value in reset.changes["calendar_token_hash"])


def test_a_new_person_is_recorded(staff):
    with audit.acting_as(staff, ip=ADDRESS):
        profile = people_services.create_person(
            username="newbie", email="newbie@example.com", password="s3cret-pw"
        )

    entry = only_entry(kind="auth.user", action="created")
    assert entry.object_id == str(profile.user.pk) and entry.actor_label == "sam-staff"
    assert entry.changes["username"] == [None, "newbie"]
    assert "s3cret-pw" not in str(entry.changes) and entry.changes["password"][1].startswith("hidden:")
    assert entry.changes["groups"] == [None, ["engineers"]]


def test_a_sign_in_and_a_failed_sign_in_are_recorded(client):
    user = ProfileFactory(user=UserFactory(username="ana")).user
    user.set_password("right-horse-battery")
    user.save()

    client.post("/accounts/login/", {"username": "ana", "password": "wrong"}, REMOTE_ADDR="192.0.2.1")
    client.post("/accounts/login/", {"username": "nobody", "password": "x"}, REMOTE_ADDR="192.0.2.2")
    client.post(
        "/accounts/login/", {"username": "ana", "password": "right-horse-battery"}, REMOTE_ADDR="192.0.2.3"
    )

    failed = list(AuditEntry.objects.filter(action="sign-in failed").order_by("id"))
    assert [(entry.object_label, entry.object_id, entry.ip) for entry in failed] == [
        ("ana", str(user.pk), "192.0.2.1"),
        ("nobody", "", "192.0.2.2"),
    ]
    assert all(entry.actor_id is None and "wrong" not in str(entry.changes) for entry in failed)
    signed_in = only_entry(action="signed in")
    assert (signed_in.actor_id, signed_in.object_id, signed_in.ip) == (user.pk, str(user.pk), "192.0.2.3")


def test_classifying_a_check_across_a_shift_records_each_alert_it_changes(staff):
    from tests.factories import AlertShiftFactory

    shift = AlertShiftFactory()
    team = shift.rotation.team
    changed = AlertFactory(team=team, check_name="DiskSpaceLow")
    already = AlertFactory(team=team, check_name="DiskSpaceLow", category=category("threshold"))

    with audit.acting_as(staff, ip=ADDRESS):
        count = alert_services.classify_check_in_shift(
            shift=shift, check="DiskSpaceLow", category=category("threshold"), by=staff
        )

    assert count == 2
    entry = only_entry(kind="alerts_review.alert", action="classified")
    assert entry.object_id == str(changed.pk) != str(already.pk)
    assert entry.changes["category"][0] is None and (entry.actor_label, entry.ip) == ("sam-staff", ADDRESS)
