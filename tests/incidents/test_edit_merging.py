"""A save made on an older version is merged field by field, or refused naming the conflicts."""

import datetime as dt

import pytest

from incidents.exceptions import StaleVersion
from incidents.merging import Choice
from incidents.models import Incident, Revision
from incidents.services import incident as services
from tests.factories import ProfileFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"
START = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def alice(db):
    alice = ProfileFactory(user=UserFactory(username="alice"), display_name="Alice Ng").user
    return member_of(TeamFactory(slug="responders"), "responder", user=alice)


def open_incident(**fields) -> Incident:
    """An incident made by the service, so its version 1 is in the history."""
    return services.create_incident(
        by=None,
        title="Checkout returns 500s",
        impact_started_at=START,
        detected_at=START + dt.timedelta(minutes=5),
        **fields,
    )


# --- The API -----------------------------------------------------------------------


def test_a_stale_patch_of_other_sections_is_merged_and_recorded(api, alice):
    incident = open_incident(tldr="Checkout failed.")
    services.update_incident(
        incident=incident, by=alice, version=1, changes={"why_surprised": "No alert on queue depth."}
    )

    response = api.patch(
        f"{URL}{incident.pk}/", {"version": 1, "what_happened": "The queue filled up."}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 3
    assert body["why_surprised"] == "No alert on queue depth."
    assert body["what_happened"] == "The queue filled up."
    revision = Revision.objects.get(incident=incident, number=3)
    assert revision.changed_fields == ["what_happened"]
    assert revision.note == "Merged with version 2"
    assert revision.snapshot["why_surprised"] == "No alert on queue depth."


def test_a_stale_patch_resending_what_it_read_does_not_revert_the_other_save(api, alice):
    incident = open_incident(tldr="Checkout failed.")
    services.update_incident(
        incident=incident, by=alice, version=1, changes={"tldr": "Checkout failed for 40m."}
    )

    response = api.patch(
        f"{URL}{incident.pk}/",
        {"version": 1, "tldr": "Checkout failed.", "got_lucky": "It was a quiet Sunday."},
        format="json",
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.tldr == "Checkout failed for 40m." and incident.got_lucky == "It was a quiet Sunday."


def test_a_stale_patch_of_a_section_the_other_save_changed_is_409_naming_it_and_saves_nothing(api, alice):
    incident = open_incident(tldr="Checkout failed.")
    services.update_incident(
        incident=incident, by=alice, version=1, changes={"tldr": "Theirs.", "why_surprised": "Theirs too."}
    )

    response = api.patch(
        f"{URL}{incident.pk}/",
        {"version": 1, "tldr": "Mine.", "why_surprised": "Mine too.", "went_well": "Rollback was quick."},
        format="json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["version"] == 2
    assert body["conflicts"] == ["tldr", "why_surprised"]
    assert "Both of you changed: tl;dr, Why were we surprised?." in body["detail"]
    incident.refresh_from_db()
    assert incident.version == 2 and incident.tldr == "Theirs." and incident.went_well == ""
    assert Revision.objects.filter(incident=incident).count() == 2


def test_a_stale_patch_of_another_field_the_other_save_changed_is_409(api, alice):
    incident = open_incident()
    services.update_incident(incident=incident, by=alice, version=1, changes={"title": "Payments down"})

    response = api.patch(f"{URL}{incident.pk}/", {"version": 1, "title": "Checkout down"}, format="json")

    assert response.status_code == 409
    assert response.json()["conflicts"] == ["title"]
    incident.refresh_from_db()
    assert incident.title == "Payments down"


# --- The service, for every versioned edit ---------------------------------------


def test_fields_only_the_other_save_changed_are_never_reverted_by_a_stale_edit(alice, person):
    team = TeamFactory(slug="payments")
    for responder in (alice, person):  # both edit what becomes a Payments incident
        member_of(team, "responder", user=responder)
    incident = open_incident(severity=3, affected_service="checkout")
    services.update_incident(
        incident=incident,
        by=alice,
        version=1,
        changes={"severity": 1, "team": team, "tags": ["database"], "status": "resolved"},
    )
    stale_form = {
        "title": "Checkout returns 500s (card payments)",
        "severity": 3,
        "team": None,
        "tags": [],
        "status": "open",
        "affected_service": "checkout",
        "impact_started_at": START,
        "detected_at": START + dt.timedelta(minutes=5),
    }

    saved = services.update_incident(incident=incident, by=person, version=1, changes=stale_form)

    assert saved.title == "Checkout returns 500s (card payments)"
    assert saved.severity == 1 and saved.team == team and saved.status == "resolved"
    assert [tag.name for tag in saved.tags.all()] == ["database"]


def test_a_conflict_settled_as_keep_both_saves_both_texts_in_order(alice, person):
    incident = open_incident(why_surprised="")
    services.update_incident(
        incident=incident, by=alice, version=1, changes={"why_surprised": "Alice's answer."}
    )
    with pytest.raises(StaleVersion) as refused:
        services.update_incident(
            incident=incident, by=person, version=1, changes={"why_surprised": "Pat's answer."}
        )
    assert refused.value.conflicts == ["why_surprised"]

    saved = services.update_incident(
        incident=incident,
        by=person,
        version=refused.value.current_version,
        changes={"why_surprised": "Pat's answer."},
        choices={"why_surprised": Choice.BOTH},
    )

    assert saved.why_surprised == "Alice's answer.\n\nPat's answer."


def test_keep_theirs_leaves_the_field_as_saved_even_after_a_third_save(alice, person):
    incident = open_incident(tldr="One.")
    services.update_incident(incident=incident, by=alice, version=1, changes={"tldr": "Alice."})
    services.update_incident(incident=incident, by=alice, version=2, changes={"tldr": "Alice, again."})

    saved = services.update_incident(
        incident=incident,
        by=person,
        version=2,
        changes={"tldr": "Pat.", "went_well": "Paging worked."},
        choices={"tldr": Choice.THEIRS},
    )

    assert saved.tldr == "Alice, again." and saved.went_well == "Paging worked."


def test_keeping_my_emptied_section_over_their_rewrite_keeps_their_text(alice, person):
    incident = open_incident(tldr="Checkout failed.")
    services.update_incident(
        incident=incident, by=alice, version=1, changes={"tldr": "Checkout failed for 40m."}
    )
    with pytest.raises(StaleVersion) as refused:
        services.update_incident(incident=incident, by=person, version=1, changes={"tldr": ""})
    assert refused.value.conflicts == ["tldr"]

    saved = services.update_incident(
        incident=incident, by=person, version=2, changes={"tldr": ""}, choices={"tldr": Choice.MINE}
    )

    assert saved.tldr == "Checkout failed for 40m."
