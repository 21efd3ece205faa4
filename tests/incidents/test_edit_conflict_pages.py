"""Two people edit the same postmortem in the editor: nobody's writing is lost (issue #14)."""

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.test import Client

from incidents.models import Incident
from incidents.services import incident as services
from tests.factories import ProfileFactory, TeamFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)


class _EditForm(HTMLParser):
    """What a browser would send from the page's editor form, as the page left it."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.radios: dict[str, list[str]] = {}
        self._in_form = False
        self._textarea: str | None = None
        self._select: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and "incident-form" in (attributes.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind == "radio":
                self.radios.setdefault(name, []).append(attributes.get("value") or "")
                if "checked" in attributes:
                    self._add(name, attributes.get("value") or "")
            elif kind == "checkbox":
                if "checked" in attributes:
                    self._add(name, attributes.get("value") or "on")
            else:
                self._add(name, attributes.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self._add(self._select, attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def editor(html: str) -> _EditForm:
    parsed = _EditForm()
    parsed.feed(html)
    # A browser drops the one newline that follows <textarea>.
    for values in parsed.data.values():
        values[:] = [value.removeprefix("\n") for value in values]
    return parsed


def open_editor(client: Client, incident: Incident) -> dict[str, list[str]]:
    return editor(client.get(f"/incidents/{incident.pk}/edit/").content.decode()).data


def save(client: Client, incident: Incident, data: dict[str, list[str]]):
    return client.post(f"/incidents/{incident.pk}/edit/", data)


@pytest.fixture
def alice() -> Client:
    client = Client()
    alice = ProfileFactory(user=UserFactory(username="alice"), display_name="Alice Ng").user
    client.force_login(member_of(TeamFactory(slug="responders"), "responder", user=alice))
    return client


@pytest.fixture
def dana() -> Client:
    client = Client()
    dana = ProfileFactory(user=UserFactory(username="dana"), display_name="Dana Ruiz").user
    client.force_login(member_of(TeamFactory(slug="responders"), "responder", user=dana))
    return client


@pytest.fixture
def incident() -> Incident:
    return services.create_incident(
        by=None,
        title="Checkout returns 500s",
        impact_started_at=START,
        detected_at=START + dt.timedelta(minutes=5),
        tldr="Checkout failed.",
    )


def test_a_section_only_alice_wrote_survives_danas_save_of_other_sections(alice, dana, incident):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["why_surprised"] = ["We had no alert on the queue depth."]
    assert save(alice, incident, alices_form).status_code == 302
    danas_form["what_happened"] = ["The queue filled up at 13:00."]
    danas_form["went_well"] = ["The rollback took two minutes."]

    response = save(dana, incident, danas_form)
    if response.status_code == 409:
        # Dana presses Save on whatever the conflict screen shows.
        response = save(dana, incident, editor(response.content.decode()).data)

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.why_surprised == "We had no alert on the queue depth."
    assert incident.what_happened == "The queue filled up at 13:00."
    assert incident.went_well == "The rollback took two minutes."
    assert incident.version == 3
    assert incident.revisions.first().note == "Merged with version 2"


def test_a_section_both_wrote_is_shown_side_by_side_and_keeping_both_saves_both(alice, dana, incident):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["why_surprised"] = ["Alice: no alert on queue depth."]
    alices_form["title"] = ["Checkout returns 500s for card payments"]
    assert save(alice, incident, alices_form).status_code == 302
    danas_form["why_surprised"] = ["Dana: the runbook was out of date."]
    danas_form["got_lucky"] = ["It was a quiet Sunday."]

    response = save(dana, incident, danas_form)

    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved first" in page and "Alice Ng" in page
    assert "Alice: no alert on queue depth." in page and "Dana: the runbook was out of date." in page
    screen = editor(page)
    assert screen.radios["resolve-why_surprised"] == ["theirs", "mine", "both"]
    assert screen.data["resolve-why_surprised"] == ["both"], (
        "keeping both is chosen until the person says otherwise"
    )
    assert screen.data["conflict"] == ["why_surprised"]
    # The merged form holds Alice's title (only she changed it) and Dana's own new section.
    assert screen.data["title"] == ["Checkout returns 500s for card payments"]
    assert screen.data["got_lucky"] == ["It was a quiet Sunday."]
    assert screen.data["version"] == ["2"]
    incident.refresh_from_db()
    assert incident.version == 2 and incident.got_lucky == ""

    assert save(dana, incident, screen.data).status_code == 302
    incident.refresh_from_db()
    assert incident.why_surprised == "Alice: no alert on queue depth.\n\nDana: the runbook was out of date."
    assert incident.title == "Checkout returns 500s for card payments"
    assert incident.got_lucky == "It was a quiet Sunday."


@pytest.mark.parametrize(
    ("choice", "kept"),
    [("theirs", "Alice's words."), ("mine", "Dana's words.")],
)
def test_keeping_theirs_or_mine_saves_that_text(alice, dana, incident, choice, kept):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["tldr"] = ["Alice's words."]
    save(alice, incident, alices_form)
    danas_form["tldr"] = ["Dana's words."]
    screen = editor(save(dana, incident, danas_form).content.decode()).data

    screen["resolve-tldr"] = [choice]
    assert save(dana, incident, screen).status_code == 302

    incident.refresh_from_db()
    assert incident.tldr == kept


def test_a_field_both_changed_other_than_text_offers_theirs_or_mine_with_readable_values(
    alice, dana, incident
):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["severity"] = ["1"]
    save(alice, incident, alices_form)
    danas_form["severity"] = ["2"]

    response = save(dana, incident, danas_form)

    assert response.status_code == 409
    screen = editor(response.content.decode())
    assert screen.radios["resolve-severity"] == ["theirs", "mine"]
    screen.data["resolve-severity"] = ["theirs"]
    assert save(dana, incident, screen.data).status_code == 302
    incident.refresh_from_db()
    assert incident.severity == 1


def test_an_unknown_choice_is_refused_with_a_sentence_and_nothing_saved(alice, dana, incident):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["tldr"] = ["Alice's words."]
    save(alice, incident, alices_form)
    danas_form["tldr"] = ["Dana's words."]
    screen = editor(save(dana, incident, danas_form).content.decode()).data

    screen["resolve-tldr"] = ["overwrite"]
    response = save(dana, incident, screen)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose, for each conflicting field, whose text to keep." in page
    incident.refresh_from_db()
    assert incident.tldr == "Alice's words." and incident.version == 2
    # The conflict stays on screen: the next save still settles it, never overwrites.
    again = editor(page)
    assert again.data["conflict"] == ["tldr"] and again.radios["resolve-tldr"] == ["theirs", "mine", "both"]
    again.data["resolve-tldr"] = ["both"]
    assert save(dana, incident, again.data).status_code == 302
    incident.refresh_from_db()
    assert incident.tldr == "Alice's words.\n\nDana's words."


def test_a_refused_field_on_the_conflict_form_keeps_the_conflict_to_settle(alice, dana, incident):
    alices_form = open_editor(alice, incident)
    danas_form = open_editor(dana, incident)
    alices_form["why_surprised"] = ["Alice's answer."]
    save(alice, incident, alices_form)
    danas_form["why_surprised"] = ["Dana's answer."]
    screen = editor(save(dana, incident, danas_form).content.decode()).data

    screen["title"] = [""]
    response = save(dana, incident, screen)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Someone else saved first" in page
    assert "Alice&#x27;s answer." in page and "Dana&#x27;s answer." in page
    again = editor(page).data
    assert again["conflict"] == ["why_surprised"] and again["resolve-why_surprised"] == ["both"]
    again["title"] = ["Checkout returns 500s"]
    assert save(dana, incident, again).status_code == 302
    incident.refresh_from_db()
    assert incident.why_surprised == "Alice's answer.\n\nDana's answer."
