"""Every form of the site survives a refusal and a second click.

Each form, refused once, is shown again with what was typed and its error
named, at an address that takes its POST; the corrected form, sent from that
page as a browser would, redirects (POST/redirect/GET) to a page that opens;
and the same form sent twice (a double click, back and submit again) makes
one thing. Create forms carry a one-time token (morgue.submissions); the
other forms change a state, which is the same however often it is set.

| form (template) | posts to | view | kind |
| --- | --- | --- | --- |
| sign in (registration/login) | /accounts/login/ | LoginView | session |
| sign out (base) | /accounts/logout/ | LogoutView | session |
| new incident (incidents/form) | /incidents/new/ | incident_create | create, token |
| edit incident (incidents/form) | /incidents/<pk>/edit/ | incident_edit | versioned edit |
| timeline event (incidents/detail) | /incidents/<pk>/timeline/ | timeline_add | create, token |
| declare (home, oncall/page_detail, incidents/declare) | /incidents/declare/ | declare | create, token |
| role (incidents/_running) | /incidents/<pk>/roles/ | role_assign | state |
| status update (incidents/_running) | /incidents/<pk>/status-updates/ | status_update_post | create, token |
| follow, unfollow (incidents/_running) | /incidents/<pk>/subscription/ | subscription | state |
| public page (incidents/_running) | /incidents/<pk>/public/ | public_toggle | state |
| star an event (incidents/detail) | /incidents/<pk>/timeline/<id>/star/ | event_star | state |
| delete (incidents/detail) | /incidents/<pk>/delete/ | incident_delete | asks first |
| confirm delete (incidents/delete) | /incidents/<pk>/delete/ | incident_delete | state |
| restore, undo (detail, deleted) | /incidents/<pk>/restore/ | incident_restore | state |
| send invitation (detail) | /incidents/<pk>/review/invite/ | review_invite | resend |
| unschedule review (detail) | /incidents/<pk>/review/unschedule/ | review_unschedule | state |
| schedule review (incidents/review) | /incidents/<pk>/review/ | review_schedule | token |
| restore revision (history) | /incidents/<pk>/history/<n>/restore/ | revision_restore | state |
| link deploy (_evidence) | /incidents/<pk>/evidence/deploys/ | link_deploy_view | state |
| unlink deploy (_evidence) | …/evidence/deploys/<id>/unlink/ | unlink_deploy_view | state |
| add graph (_evidence) | /incidents/<pk>/evidence/graphs/ | add_graph_view | create, token |
| chat log (_evidence, preview) | /incidents/<pk>/evidence/chatlog/ | chatlog_view | dedup lines |
| add item (_remediations) | /remediations/incident/<pk>/add/ | add_item | create, token |
| edit item (_remediation_item_forms) | /remediations/<id>/edit/ | edit_item | edit |
| item status (_remediation_status_form) | /remediations/<id>/status/ | change_status | state |
| item status (remediation_board) | /remediations/<id>/status/ | change_status | state |
| create issue (_tracker_issue) | /remediations/<id>/tracker/ | create_issue | state (one per item) |
| override (oncall/rotation) | /oncall/rotations/<slug>/ | rotation | create, token |
| ask a swap (oncall/rotation) | /oncall/rotations/<slug>/ | rotation | create, token |
| schedule (oncall/rotation_schedule) | …/<slug>/schedule/ | rotation_schedule | edit, preview |
| page a team (oncall/page) | /oncall/page/ | page_directory | create, token |
| acknowledge (oncall/page_detail) | /oncall/pages/<pk>/ | page_detail | state |
| answer a swap (oncall/now) | /oncall/swaps/<pk>/accept/, decline/ | answer_swap | state |
| withdraw a swap (oncall/now) | /oncall/swaps/<pk>/withdraw/ | withdraw_swap | state |
| calendar address (_calendar_subscription) | /oncall/calendar-token/ | reset_calendar_token | new secret |
| make an API token (morgue/profile) | /profile/ | profile | create, token |
| revoke an API token (morgue/profile) | /profile/ | profile | state |
| add a contact method (oncall/_reaching_you) | /profile/ | profile | same address once |
| add a notification rule (_reaching_you) | /profile/ | profile | one rule per method |
| remove a method or a rule (_reaching_you) | /profile/ | profile | state |
| send me a test page (_reaching_you) | /profile/ | profile | create, token |
| acknowledge with one tap (oncall/one_tap) | /oncall/ack/<token>/ | one_tap | state |
| classify (alerts_review/review) | /alerts/<id>/classify/ | classify | state |
| classify a check (review) | /alerts/shifts/<id>/classify-check/ | classify_check | state |
| act (alerts_review/report) | /alerts/reports/<month>/act/ | act | create, token |
| review notes (report) | /alerts/reports/<month>/review/ | save_review | edit |
| profile (morgue/profile) | /profile/ | profile | edit |

The filter forms (incident list, deploys, reports, board, history, fairness)
are GET forms: nothing to save.
"""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from incidents.models import RemediationItem, RemediationStatus
from tests.factories import (
    IncidentFactory,
    ProfileFactory,
    RemediationItemFactory,
    TeamFactory,
    UserFactory,
    member_of,
    responder,
)
from tests.formpage import form_on
from tests.incidents.graph_server import PNG

ON_CALL_NOW = dt.datetime(2026, 2, 10, 12, tzinfo=dt.UTC)


@pytest.fixture
def dana(db):
    """Another responder (of unowned incidents, like `person`)."""
    dana = ProfileFactory(user=UserFactory(username="dana")).user
    return member_of(TeamFactory(slug="dana-team"), "responder", user=dana)


def _opens(client, response) -> None:
    """A redirect that lands on a page that opens (no 405 after a POST/redirect/GET)."""
    assert response.status_code in (302, 303), response.status_code
    landed = client.get(response["Location"])
    assert landed.status_code == 200, (response["Location"], landed.status_code)


# --- Remediation items -----------------------------------------------------------------------


def test_a_refused_item_corrected_on_its_error_page_lands_on_a_page_that_opens(browser_client, dana):
    incident = IncidentFactory()
    page = browser_client.get(f"/incidents/{incident.pk}/")
    form = form_on(page, data_kind="ops")

    refused = browser_client.post(form.action, form.data(title="Alert on disk", owner="nobdy"))

    assert refused.status_code == 400
    html = refused.content.decode()
    assert "No person has the username “nobdy”." in html
    again = form_on(refused, data_kind="ops")
    assert again.fields["title"] == "Alert on disk" and again.fields["owner"] == "nobdy"
    assert again.fields["next"] == f"/incidents/{incident.pk}/"
    saved = browser_client.post(again.action, again.data(owner="dana"))
    _opens(browser_client, saved)
    assert saved["Location"] == f"/incidents/{incident.pk}/"
    assert RemediationItem.objects.filter(incident=incident, title="Alert on disk").count() == 1


def test_the_same_item_sent_twice_is_added_once(browser_client, dana):
    incident = IncidentFactory()
    form = form_on(browser_client.get(f"/incidents/{incident.pk}/"), data_kind="dev")
    data = form.data(title="Feature-flag it", owner="dana")

    first = browser_client.post(form.action, data)
    second = browser_client.post(form.action, data)

    assert RemediationItem.objects.filter(incident=incident).count() == 1
    assert second["Location"] == first["Location"]
    _opens(browser_client, second)


def test_a_refused_form_keeps_its_token_and_a_fresh_page_gets_a_new_one(browser_client, dana):
    incident = IncidentFactory()
    form = form_on(browser_client.get(f"/incidents/{incident.pk}/"), data_kind="dev")
    refused = browser_client.post(form.action, form.data(title="Flag", owner="nobody"))
    assert form_on(refused, data_kind="dev").fields["submission"] == form.fields["submission"]
    # The other column's form was not sent: its token is its own.
    assert form_on(refused, data_kind="ops").fields["submission"] != form.fields["submission"]
    fresh = form_on(browser_client.get(f"/incidents/{incident.pk}/"), data_kind="dev")
    assert fresh.fields["submission"] != form.fields["submission"]


def test_wont_do_without_a_reason_corrected_on_its_error_page_lands_on_a_page_that_opens(
    browser_client, dana
):
    item = RemediationItemFactory(owner=dana)
    page = browser_client.get(f"/incidents/{item.incident_id}/")
    form = form_on(page, action=f"/remediations/{item.pk}/status/")

    refused = browser_client.post(form.action, form.data(status="wont-do", reason=""))

    assert refused.status_code == 400
    assert "reason" in refused.content.decode().lower()
    again = form_on(refused, action=f"/remediations/{item.pk}/status/")
    assert again.fields["status"] == "wont-do"
    saved = browser_client.post(again.action, again.data(reason="Covered by the new alert"))
    _opens(browser_client, saved)
    item.refresh_from_db()
    assert item.status == RemediationStatus.WONT_DO
    # Sent again: the same state, nothing else changes.
    browser_client.post(again.action, again.data(reason="Covered by the new alert"))
    item.refresh_from_db()
    assert (item.status, item.wont_do_reason) == (RemediationStatus.WONT_DO, "Covered by the new alert")


def test_a_refused_edit_corrected_on_its_error_page_lands_on_a_page_that_opens(browser_client, dana):
    item = RemediationItemFactory(owner=dana, title="Old title")
    page = browser_client.get(f"/incidents/{item.incident_id}/")
    form = form_on(page, action=f"/remediations/{item.pk}/edit/")

    refused = browser_client.post(form.action, form.data(title="New title", owner="ghost"))

    assert refused.status_code == 400
    again = form_on(refused, action=f"/remediations/{item.pk}/edit/")
    assert again.fields["title"] == "New title"
    _opens(browser_client, browser_client.post(again.action, again.data(owner="dana")))
    item.refresh_from_db()
    assert item.title == "New title"


@pytest.mark.parametrize(
    "path",
    [
        "/remediations/incident/{incident}/add/",
        "/remediations/{item}/status/",
        "/incidents/{incident}/roles/",
        "/incidents/{incident}/status-updates/",
        "/incidents/{incident}/subscription/",
        "/incidents/{incident}/public/",
    ],
)
def test_a_form_address_opened_directly_leads_to_its_page(browser_client, dana, path):
    item = RemediationItemFactory(owner=dana)
    response = browser_client.get(path.format(incident=item.incident_id, item=item.pk))
    _opens(browser_client, response)


# --- Incidents -------------------------------------------------------------------------------------


def _round_trip(client, page_url: str, bad: dict, good, *, count, error: str, button=None, **which):
    """Refuse the form once, correct it on its error page, send it twice: one new row.

    `button` is the name and value of the submit button pressed, sent each time.
    """
    button = button or {}
    before = count()
    form = form_on(client.get(page_url), page_url=page_url, **which)
    refused = client.post(form.action, form.data(**bad, **button))
    assert refused.status_code in (200, 400), refused.status_code
    assert error in refused.content.decode()
    assert count() == before
    again = form_on(refused, page_url=form.action, **which)
    for name, value in bad.items():
        if isinstance(value, str) and name != "submission":
            assert again.fields.get(name) == value, (name, again.fields.get(name))
    fill = (lambda: {**good(), **button}) if callable(good) else (lambda: {**good, **button})
    saved = client.post(again.action, again.data(**fill()))
    _opens(client, saved)
    twice = client.post(again.action, again.data(**fill()))
    assert twice["Location"] == saved["Location"]
    assert count() == before + 1
    return saved


def test_new_incident_round_trip(browser_client):
    from incidents.models import Incident

    _round_trip(
        browser_client,
        "/incidents/new/",
        {"title": "", "tldr": "Checkout failing"},
        {
            "title": "Checkout outage",
            "impact_started_at": "2026-03-01T10:00",
            "detected_at": "2026-03-01T10:05",
        },
        count=Incident.objects.count,
        error="This field is required.",
        class_="stacked incident-form",
    )


def test_timeline_event_round_trip(browser_client):
    incident = IncidentFactory()
    _round_trip(
        browser_client,
        f"/incidents/{incident.pk}/",
        {"text": "Rolled back", "link": "not a link"},
        {"link": "https://deploys.example.com/42"},
        count=incident.events.count,
        error="Enter a valid URL.",
        action=f"/incidents/{incident.pk}/timeline/",
    )


def test_graph_round_trip(browser_client):
    from incidents.models import GraphSnapshot

    incident = IncidentFactory()
    _round_trip(
        browser_client,
        f"/incidents/{incident.pk}/",
        {"title": "Error rate", "url": ""},
        lambda: {"image": SimpleUploadedFile("errors.png", PNG, content_type="image/png")},
        count=GraphSnapshot.objects.count,
        error="or drop its image.",
        action=f"/incidents/{incident.pk}/evidence/graphs/",
    )


def test_review_meeting_round_trip_sends_one_invitation(
    browser_client, dana, django_capture_on_commit_callbacks
):
    from incidents.models import ReviewMeeting

    incident = IncidentFactory(status="resolved", resolved_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:
        _round_trip(
            browser_client,
            f"/incidents/{incident.pk}/review/",
            {"starts_at": "2020-01-01T10:00", "location": "Room 4"},
            {"starts_at": "2099-01-05T10:00", "send_invitation": "on"},
            count=ReviewMeeting.objects.count,
            error="The review meeting must start in the future.",
            class_="stacked",
        )
    assert len(callbacks) == 1  # one invitation enqueued, though the form was sent twice


def test_editing_an_incident_refused_then_corrected_saves_once(browser_client):
    incident = IncidentFactory(title="Before")
    url = f"/incidents/{incident.pk}/edit/"
    form = form_on(browser_client.get(url), page_url=url, class_="stacked incident-form")
    refused = browser_client.post(form.action, form.data(title="", tldr="Kept words"))
    assert refused.status_code == 400
    again = form_on(refused, page_url=url, class_="stacked incident-form")
    assert again.action == url and again.fields["tldr"] == "Kept words"
    _opens(browser_client, browser_client.post(again.action, again.data(title="After")))
    incident.refresh_from_db()
    assert (incident.title, incident.tldr, incident.revisions.count()) == ("After", "Kept words", 1)


# --- Delete asks first, and can be undone ----------------------------------------------------------


def test_delete_asks_first_on_a_page_naming_the_incident(client, staff):
    incident = IncidentFactory(title="Checkout outage")
    client.force_login(staff)
    detail = client.get(f"/incidents/{incident.pk}/").content.decode()
    # The incident page links to the question; it deletes nothing itself.
    assert f'href="/incidents/{incident.pk}/delete/"' in detail
    assert f'action="/incidents/{incident.pk}/delete/"' not in detail

    asked = client.get(f"/incidents/{incident.pk}/delete/")

    assert asked.status_code == 200
    assert "Delete “Checkout outage”?" in asked.content.decode()
    form = form_on(asked, action=f"/incidents/{incident.pk}/delete/")
    assert form.method == "post" and form.fields["csrfmiddlewaretoken"]
    incident.refresh_from_db()
    assert not incident.is_deleted


def test_the_deleted_page_offers_undo_as_a_post_that_restores(staff):
    from django.test import Client

    incident = IncidentFactory(title="Checkout outage")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    asked = client.get(f"/incidents/{incident.pk}/delete/")
    confirm = form_on(asked, action=f"/incidents/{incident.pk}/delete/")

    deleted = client.post(confirm.action, confirm.data())

    assert deleted["Location"] == f"/incidents/{incident.pk}/deleted/"
    incident.refresh_from_db()
    assert incident.is_deleted
    result = client.get(deleted["Location"])
    assert result.status_code == 200
    assert "“Checkout outage” is deleted" in result.content.decode()
    undo = form_on(result, action=f"/incidents/{incident.pk}/restore/")
    assert undo.method == "post"
    # Without its CSRF token the Undo is refused; with it, the incident is back.
    assert client.post(undo.action, {}).status_code == 403
    restored = client.post(undo.action, undo.data())
    assert restored["Location"] == incident.get_absolute_url()
    incident.refresh_from_db()
    assert not incident.is_deleted
    assert "is restored" in client.get(restored["Location"]).content.decode()
    # The result page of an undone delete leads to the incident.
    assert client.get(deleted["Location"])["Location"] == incident.get_absolute_url()


def test_delete_sent_twice_deletes_once_and_lands_on_the_same_page(client, staff):
    incident = IncidentFactory()
    client.force_login(staff)
    first = client.post(f"/incidents/{incident.pk}/delete/")
    incident.refresh_from_db()
    deleted_at = incident.deleted_at
    second = client.post(f"/incidents/{incident.pk}/delete/")
    incident.refresh_from_db()
    assert first["Location"] == second["Location"] and incident.deleted_at == deleted_at


def test_only_staff_are_asked_to_delete(browser_client):
    incident = IncidentFactory()
    assert browser_client.get(f"/incidents/{incident.pk}/delete/").status_code == 403
    assert "/delete/" not in browser_client.get(f"/incidents/{incident.pk}/").content.decode()


# --- On call ---------------------------------------------------------------------------------------


@pytest.fixture
def rotation(db):
    from tests.factories import make_rotation

    return make_rotation(slug="ops-primary", people=("ana", "ben", "cy"))


def test_override_round_trip(client, rotation):
    from oncall.models import Override

    me = rotation.members.first().user
    client.force_login(me)
    with time_machine.travel(ON_CALL_NOW):
        _round_trip(
            client,
            "/oncall/rotations/ops-primary/",
            {"level": "L1", "user": "ghost", "starts_at": "2026-02-12T09:00", "ends_at": "2026-02-12T17:00"},
            {"user": me.username},
            count=Override.objects.count,
            error="There is no person with username ghost.",
            data_form="override",
        )


def test_swap_round_trip(client, rotation):
    from oncall.models import Level, Shift, Swap

    at = dt.datetime(2026, 2, 12, 12, tzinfo=dt.UTC)
    holder = Shift.objects.covering(at).get(rotation=rotation, level=Level.L1).user
    taker = next(
        member.user.username
        for member in rotation.members.all()
        if not Shift.objects.covering(at).filter(rotation=rotation, user=member.user).exists()
    )
    client.force_login(holder)
    with time_machine.travel(ON_CALL_NOW):
        _round_trip(
            client,
            "/oncall/rotations/ops-primary/",
            {
                "swap-level": "L1",
                "swap-taken_by": taker,
                "swap-starts_at": "2026-02-12T15:00",
                "swap-ends_at": "2026-02-12T11:00",
            },
            {"swap-starts_at": "2026-02-12T11:00", "swap-ends_at": "2026-02-12T15:00"},
            count=Swap.objects.count,
            error="The window must end after it starts.",
            data_form="swap",
        )


def test_paging_a_team_round_trip_pages_once(client, rotation):
    from oncall.models import Page

    client.force_login(rotation.members.first().user)
    with time_machine.travel(ON_CALL_NOW):
        _round_trip(
            client,
            "/oncall/page/",
            {"message": "x" * 2001},
            {"message": "Card auths failing"},
            count=Page.objects.count,
            error="Ensure this value has at most 2000 characters",
            data_team="ops",
        )


# --- Alerts review and profile ---------------------------------------------------------------------


def test_acting_on_a_recommendation_round_trip(browser_client, dana, person):
    from alerts_review.models import ReviewAction
    from tests.factories import AlertFactory, TeamFactory, category

    team = TeamFactory(slug="ops", name="Ops")
    member_of(team, "responder", user=person)  # who reviews Ops's month
    for day in (1, 2, 3):
        fired = dt.datetime(2026, 10, day, 14, tzinfo=dt.UTC)
        AlertFactory(team=team, check_name="Disk", fired_at=fired, category=category("threshold"))
    with time_machine.travel(dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)):
        saved = _round_trip(
            browser_client,
            "/alerts/reports/2026-10/?team=ops",
            {"owner": "nobdy"},
            {"owner": "dana"},
            button={"track": "ops"},
            count=ReviewAction.objects.count,
            error="Nobody active has the username",
            data_recommendation="Disk:threshold",
        )
    assert saved["Location"] == "/alerts/reports/2026-10/?team=ops#review"
    assert RemediationItem.objects.get().owner == dana


def test_profile_round_trip(browser_client, person):
    form = form_on(browser_client.get("/profile/"), page_url="/profile/", class_="stacked")
    refused = browser_client.post("/profile/", form.data(display_name="Pat", time_zone="Mars/Olympus"))
    assert refused.status_code == 200
    again = form_on(refused, page_url="/profile/", class_="stacked")
    assert again.action == "/profile/" and again.fields["display_name"] == "Pat"
    _opens(browser_client, browser_client.post(again.action, again.data(time_zone="Europe/Oslo")))
    person.profile.refresh_from_db()
    assert person.profile.time_zone == "Europe/Oslo"


def test_an_api_token_refused_then_corrected_is_made_once(browser_client, person):
    form = form_on(browser_client.get("/profile/"), page_url="/profile/", class_="api-token-form")
    refused = browser_client.post("/profile/", form.data(name="ci", scope="read", expires="date"))
    assert refused.status_code == 200
    assert "Give the date the token expires on." in refused.content.decode()
    again = form_on(refused, page_url="/profile/", class_="api-token-form")
    assert again.fields["name"] == "ci"

    first = browser_client.post(again.action, again.data(expires="30"))
    second = browser_client.post(again.action, again.data(expires="30"))

    assert person.api_tokens.count() == 1
    assert second.status_code == 302 and second["Location"] == first["Location"]
    _opens(browser_client, first)


def test_the_board_status_buttons_go_back_to_the_board(browser_client, dana):
    item = RemediationItemFactory(owner=dana)
    board = browser_client.get("/remediations/?kind=")
    form = form_on(board, action=f"/remediations/{item.pk}/status/")
    saved = browser_client.post(form.action, form.data(status="done"))
    assert saved["Location"] == "/remediations/?kind="
    _opens(browser_client, saved)


# --- The token itself ------------------------------------------------------------------------------


def test_a_form_sent_without_a_token_is_still_saved(browser_client, dana):
    incident = IncidentFactory()
    data = {"title": "Flag it", "kind": "dev", "category": "prevent", "owner": "dana"}
    browser_client.post(f"/remediations/incident/{incident.pk}/add/", data)
    browser_client.post(f"/remediations/incident/{incident.pk}/add/", data)
    # Scripts and old pages are not guarded: each POST is done.
    assert RemediationItem.objects.count() == 2


def test_a_token_is_one_persons_own(client, dana, person):
    incident = IncidentFactory()
    data = {
        "title": "Flag it",
        "kind": "dev",
        "category": "prevent",
        "owner": "dana",
        "submission": "remediation-add-dev:8f14e45f-ceea-467f-a3c5-0d9b0c8d2c1e",
    }
    for someone in (dana, person):
        client.force_login(someone)
        client.post(f"/remediations/incident/{incident.pk}/add/", data)
    assert RemediationItem.objects.count() == 2


def test_a_malformed_token_is_ignored_not_refused(browser_client, dana):
    incident = IncidentFactory()
    data = {
        "title": "Flag it",
        "kind": "dev",
        "category": "prevent",
        "owner": "dana",
        "submission": "x" * 500,
    }
    response = browser_client.post(f"/remediations/incident/{incident.pk}/add/", data)
    assert response.status_code == 302 and RemediationItem.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_add_one_item():
    """Both POSTs race to claim the token: the second waits for the first and follows it."""
    import threading

    from django.db import connection
    from django.test import Client

    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory cache, whose table locks do not
        # wait; the file database the site runs on takes its write lock at BEGIN instead.
        pytest.skip("concurrent requests need PostgreSQL or a file database")

    dana = responder(ProfileFactory(user=UserFactory(username="dana")).user)
    incident = IncidentFactory()
    data = {
        "title": "Flag it",
        "kind": "dev",
        "category": "prevent",
        "owner": "dana",
        "submission": "remediation-add-dev:0b8e4c2e-8d0c-4a59-9a7f-3c1f3f4d2b11",
    }
    barrier = threading.Barrier(2)
    answers = []

    def click():
        client = Client()
        client.force_login(dana)
        barrier.wait()
        try:
            answers.append(client.post(f"/remediations/incident/{incident.pk}/add/", data).status_code)
        finally:
            connection.close()

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    assert answers == [302, 302]
    assert RemediationItem.objects.filter(incident=incident).count() == 1


def test_tokens_are_forgotten_after_a_week(dana):
    from morgue.models import Submission
    from morgue.tasks import forget_old_submissions

    old = Submission.objects.create(user=dana, token="page-ops:0b8e4c2e-8d0c-4a59-9a7f-3c1f3f4d2b11")
    Submission.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    recent = Submission.objects.create(user=dana, token="page-ops:1b8e4c2e-8d0c-4a59-9a7f-3c1f3f4d2b11")

    assert forget_old_submissions() == 1
    assert list(Submission.objects.all()) == [recent]


def test_the_invitation_clicked_twice_is_sent_once(browser_client, dana, django_capture_on_commit_callbacks):
    from incidents.models import ReviewMeeting

    incident = IncidentFactory(status="resolved", resolved_at=timezone.now())
    ReviewMeeting.objects.create(
        incident=incident, facilitator=dana, starts_at=timezone.now() + dt.timedelta(days=3),
        created_at=timezone.now(),
    )  # fmt: skip
    form = form_on(
        browser_client.get(f"/incidents/{incident.pk}/"), action=f"/incidents/{incident.pk}/review/invite/"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for _ in range(2):
            _opens(browser_client, browser_client.post(form.action, form.data()))
    assert len(callbacks) == 1


def test_review_notes_too_long_are_shown_again_and_then_saved(browser_client, person):
    from alerts_review.models import AlertReview
    from tests.factories import TeamFactory

    member_of(TeamFactory(slug="ops", name="Ops"), "responder", user=person)
    report = "/alerts/reports/2026-10/?team=ops"
    form = form_on(browser_client.get(report), action="/alerts/reports/2026-10/review/")
    refused = browser_client.post(form.action, form.data(notes="x" * 20_001))
    assert refused.status_code == 400
    assert "Notes: Ensure this value has at most 20000 characters" in refused.content.decode()
    again = form_on(refused, action="/alerts/reports/2026-10/review/")
    assert again.fields["notes"] == "x" * 20_001
    saved = browser_client.post(again.action, again.data(notes="Raise the disk threshold."))
    _opens(browser_client, saved)
    assert AlertReview.objects.get().notes == "Raise the disk threshold."


@pytest.mark.parametrize(
    "path", ["/incidents/{incident}/evidence/chatlog/", "/incidents/{incident}/timeline/"]
)
def test_an_incident_form_address_opened_directly_leads_to_its_page(browser_client, path):
    incident = IncidentFactory()
    _opens(browser_client, browser_client.get(path.format(incident=incident.pk)))


def test_an_unreadable_chat_log_is_shown_again_to_correct_and_preview(browser_client):
    incident = IncidentFactory()
    form = form_on(browser_client.get(f"/incidents/{incident.pk}/"), class_="chatlog")
    refused = browser_client.post(form.action, form.data(text="hello\nnothing here", action="preview"))
    assert refused.status_code == 400
    again = form_on(refused, class_="chatlog stacked")
    assert again.action == form.action and again.fields["text"] == "hello\nnothing here"
    preview = browser_client.post(
        again.action, again.data(text="14:02 < jsmith> seeing 500s", time_zone="UTC", action="preview")
    )
    assert preview.status_code == 200 and "1 line will be added" in preview.content.decode()


# --- Running an incident ---------------------------------------------------------------------


def test_declaring_twice_from_the_home_page_declares_once(browser_client, person):
    from incidents.models import Incident
    from tests.factories import TeamFactory

    member_of(TeamFactory(slug="payments", email=""), "responder", user=person)
    form = form_on(browser_client.get("/"), action="/incidents/declare/")
    refused = browser_client.post(form.action, form.data(title="", team="payments"))
    assert refused.status_code == 400 and "Title: This field is required." in refused.content.decode()
    again = form_on(refused, action="/incidents/declare/")
    assert again.fields["team"] == "payments"
    data = again.data(title="Card auths failing")
    first = browser_client.post(again.action, data)
    second = browser_client.post(again.action, data)
    assert Incident.objects.count() == 1 and second["Location"] == first["Location"]
    _opens(browser_client, second)


def test_a_status_update_sent_twice_is_posted_once(browser_client, dana, django_capture_on_commit_callbacks):
    from incidents.models import StatusUpdate

    incident = IncidentFactory()
    url = f"/incidents/{incident.pk}/"
    form = form_on(browser_client.get(url), action=f"{url}status-updates/")
    refused = browser_client.post(form.action, form.data(affected="", doing="Rolling back"))
    assert refused.status_code == 400
    again = form_on(refused, action=f"{url}status-updates/")
    assert again.fields["doing"] == "Rolling back"
    data = again.data(affected="EU checkout")
    first = browser_client.post(again.action, data)
    second = browser_client.post(again.action, data)
    assert StatusUpdate.objects.filter(incident=incident).count() == 1
    assert second["Location"] == first["Location"]
    _opens(browser_client, second)
