import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings

from incidents.exceptions import IncidentHasOpenItems
from incidents.models import RemediationItem, RemediationStatus
from incidents.selectors.remediation import blameless_findings, items_blocking_close
from incidents.services.remediation import (
    assert_can_close,
    change_status,
    create_item,
    default_due_date,
    update_item,
)
from morgue.exceptions import MorgueError
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
    member_of,
)

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def owner(db):
    return ProfileFactory(user=UserFactory(username="dana", first_name="Dana")).user


def _create(incident, owner, **overrides):
    fields = {"title": "Alert on replica lag", "kind": "ops", "category": "detect", "owner": owner}
    return create_item(incident=incident, **(fields | overrides))


@pytest.mark.parametrize(("severity", "weeks"), [(1, 4), (2, 4), (3, 8), (5, 8)])
@time_machine.travel(NOW, tick=False)
def test_due_date_defaults_from_the_incident_severity(owner, severity, weeks):
    incident = IncidentFactory(severity=severity, impact_started_at=NOW - dt.timedelta(days=1))

    item = _create(incident, owner)

    assert item.due_date == dt.date(2026, 3, 2) + dt.timedelta(weeks=weeks)


@override_settings(MORGUE_REMEDIATION_DUE_WEEKS={1: 1, 2: 2, 3: 3, 4: 4, 5: 5})
def test_due_weeks_are_configurable():
    assert default_due_date(severity=3, written_on=dt.date(2026, 1, 1)) == dt.date(2026, 1, 22)


def test_due_date_before_the_incident_started_is_refused(owner):
    incident = IncidentFactory(impact_started_at=NOW)

    with pytest.raises(ValidationError) as error:
        _create(incident, owner, due_date=dt.date(2026, 3, 1))

    assert "due_date" in error.value.message_dict
    assert not RemediationItem.objects.exists()


def test_wont_do_needs_a_reason(owner):
    item = RemediationItemFactory(owner=owner)

    with pytest.raises(ValidationError) as error:
        change_status(item=item, status=RemediationStatus.WONT_DO, reason="  ")

    assert "wont_do_reason" in error.value.message_dict
    item.refresh_from_db()
    assert item.status == RemediationStatus.OPEN


def test_done_stamps_completed_at_and_reopening_clears_it(owner):
    item = RemediationItemFactory(owner=owner)

    with time_machine.travel(NOW, tick=False):
        item = change_status(item=item, status=RemediationStatus.DONE)
    assert item.completed_at == NOW

    item = change_status(item=item, status=RemediationStatus.IN_PROGRESS)
    assert item.completed_at is None


def test_an_edit_that_fails_validation_saves_nothing(owner):
    item = RemediationItemFactory(owner=owner, title="Old title")

    with pytest.raises(ValidationError):
        update_item(
            item=item,
            changes={"title": "New title"},
            status=RemediationStatus.WONT_DO,
            wont_do_reason="",
        )

    item.refresh_from_db()
    assert item.title == "Old title"


def test_items_blocking_close_are_the_open_and_in_progress_ones(owner):
    incident = IncidentFactory()
    open_item = RemediationItemFactory(incident=incident, owner=owner, title="Rate-limit retries")
    started = RemediationItemFactory(incident=incident, owner=owner, status=RemediationStatus.IN_PROGRESS)
    RemediationItemFactory(incident=incident, owner=owner, status=RemediationStatus.DONE, completed_at=NOW)
    RemediationItemFactory(
        incident=incident, owner=owner, status=RemediationStatus.WONT_DO, wont_do_reason="Service retired"
    )

    assert set(items_blocking_close(incident)) == {open_item, started}


def test_closing_is_refused_with_a_sentence_naming_the_items(owner):
    incident = IncidentFactory()
    RemediationItemFactory(incident=incident, owner=owner, title="Rate-limit retries")

    with pytest.raises(IncidentHasOpenItems) as error:
        assert_can_close(incident)

    assert isinstance(error.value, MorgueError)
    assert "Rate-limit retries" in error.value.message
    assert "1 remediation item is still open" in error.value.message


def test_closing_is_allowed_when_every_item_is_finished(owner):
    incident = IncidentFactory()
    RemediationItemFactory(incident=incident, owner=owner, status=RemediationStatus.DONE, completed_at=NOW)

    assert_can_close(incident)


def test_blameless_check_flags_titles_and_names_but_never_blocks(owner):
    incident = IncidentFactory()

    item = _create(incident, owner, title="Dana forgot to renew the cert", description="human error")

    findings = blameless_findings(item, names=["Dana"])
    assert {finding.phrase for finding in findings} >= {"forgot to", "human error", "person as the cause"}
    assert RemediationItem.objects.filter(pk=item.pk).exists()


def test_an_item_records_its_incident_as_where_it_came_from(owner):
    incident = IncidentFactory(title="Checkout outage")

    item = _create(incident, owner)

    page = f"/remediations/incident/{incident.pk}/"
    assert (item.origin_title, item.origin_url) == ("Checkout outage", page)
    assert item.get_absolute_url() == f"/remediations/incident/{incident.pk}/#remediation-{item.pk}"


def test_an_item_without_an_incident_must_say_where_it_came_from(owner):
    with pytest.raises(ValidationError) as error:
        _create(None, owner)

    assert set(error.value.message_dict) == {"origin_title", "origin_url"}
    review = ("Ops alerts review, May 2026", "/alerts/reports/2026-05/?team=ops#review")
    item = _create(None, owner, origin_title=review[0], origin_url=review[1])
    assert (item.origin_title, item.get_absolute_url()) == review


def test_renaming_an_incident_renames_where_its_items_came_from(owner):
    from incidents.services.incident import update_incident

    incident = IncidentFactory(title="Checkout errors")
    item = _create(incident, owner)
    elsewhere = _create(IncidentFactory(title="Search outage"), owner)

    changes = {"title": "Checkout outage"}
    member_of(TeamFactory(), "responder", user=owner)  # who may rename an incident
    update_incident(incident=incident, by=owner, version=incident.version, changes=changes)

    item.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (item.origin_title, elsewhere.origin_title) == ("Checkout outage", "Search outage")


def test_existing_items_are_given_where_they_came_from_by_the_migration(owner):
    from importlib import import_module

    from django.apps import apps

    incident = IncidentFactory(title="Checkout outage")
    item = RemediationItemFactory(incident=incident, owner=owner)
    orphan = RemediationItemFactory(incident=None, owner=owner)
    RemediationItem.objects.update(origin_title="", origin_url="")

    import_module("incidents.migrations.0010_remediation_origin").fill_origins(apps, None)

    item.refresh_from_db()
    orphan.refresh_from_db()
    assert (item.origin_title, item.get_absolute_url()) == (
        "Checkout outage",
        f"/remediations/incident/{incident.pk}/#remediation-{item.pk}",
    )
    assert (orphan.origin_title, orphan.origin_url) == ("No incident", "/remediations/")


@time_machine.travel(NOW, tick=False)
def test_a_closed_incident_takes_no_work_still_to_do(owner):
    from incidents.models import Status

    incident = IncidentFactory(status=Status.CLOSED, impact_started_at=NOW - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match=f"Incident #{incident.pk} is closed: reopen it"):
        _create(incident, owner)
    done = create_item(
        incident=incident, title="Written up", kind="dev", category="detect", owner=owner,
        status=RemediationStatus.DONE, now=NOW,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="is closed"):
        update_item(item=done, changes={}, status=RemediationStatus.OPEN, now=NOW)
    done.refresh_from_db()
    assert done.status == RemediationStatus.DONE
