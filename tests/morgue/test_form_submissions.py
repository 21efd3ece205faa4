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
| override (oncall/rotation) | /oncall/rotations/<slug>/ | rotation | create, token |
| ask a swap (oncall/rotation) | /oncall/rotations/<slug>/ | rotation | create, token |
| page a team (oncall/page) | /oncall/page/ | page_directory | create, token |
| acknowledge (oncall/page_detail) | /oncall/pages/<pk>/ | page_detail | state |
| answer a swap (oncall/now) | /oncall/swaps/<pk>/accept/, decline/ | answer_swap | state |
| withdraw a swap (oncall/now) | /oncall/swaps/<pk>/withdraw/ | withdraw_swap | state |
| calendar address (_calendar_subscription) | /oncall/calendar-token/ | reset_calendar_token | new secret |
| classify (alerts_review/review) | /alerts/<id>/classify/ | classify | state |
| classify a check (review) | /alerts/shifts/<id>/classify-check/ | classify_check | state |
| act (alerts_review/report) | /alerts/reports/<month>/act/ | act | create, token |
| review notes (report) | /alerts/reports/<month>/review/ | save_review | edit |
| profile (morgue/profile) | /profile/ | profile | edit |

The filter forms (incident list, deploys, reports, board, history, fairness)
are GET forms: nothing to save.
"""

import pytest

from incidents.models import RemediationItem, RemediationStatus
from tests.factories import IncidentFactory, ProfileFactory, RemediationItemFactory, UserFactory
from tests.formpage import form_on


@pytest.fixture
def dana(db):
    return ProfileFactory(user=UserFactory(username="dana")).user


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


@pytest.mark.parametrize("path", ["/remediations/incident/{incident}/add/", "/remediations/{item}/status/"])
def test_a_form_address_opened_directly_leads_to_its_page(browser_client, dana, path):
    item = RemediationItemFactory(owner=dana)
    response = browser_client.get(path.format(incident=item.incident_id, item=item.pk))
    _opens(browser_client, response)
