import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from incidents.forms_running import DeclareForm
from morgue.forms import FormRenderer, error_messages, set_choices
from tests.factories import TeamFactory


class _Form(forms.Form):
    team = forms.ChoiceField(choices=())
    note = forms.CharField(max_length=3)


def test_a_choice_field_accepts_the_choices_given_when_the_form_is_made():
    form = _Form({"team": "ops", "note": "ok"})
    set_choices(form, "team", [("dev", "Dev"), ("ops", "Ops")])

    assert form.is_valid(), form.errors
    assert form.cleaned_data["team"] == "ops"


def test_choices_are_refused_for_a_field_that_is_not_a_choice_field():
    with pytest.raises(TypeError, match="note is not a choice field"):
        set_choices(_Form(), "note", [("a", "A")])


def test_a_forms_errors_are_listed_as_text_field_by_field():
    form = _Form({"team": "payments", "note": "too long"})
    set_choices(form, "team", [("dev", "Dev")])

    assert not form.is_valid()
    assert error_messages(form) == [
        "Select a valid choice. payments is not one of the available choices.",
        "Ensure this value has at most 3 characters (it has 8).",
    ]


def _same_html(first: str, second: str) -> None:
    # The templates put each option on its own line; browsers ignore that whitespace.
    assert re.sub(r">\s+<", "><", first.strip()) == re.sub(r">\s+<", "><", second.strip())


TEAMS = [("", "Choose a team"), ("ops", "Ops & <SRE>"), ("web", 'The "web" team')]
ZONES = [("Europe", [("Europe/Paris", "Paris"), ("Europe/Oslo", "Oslo")]), ("UTC", "UTC")]


@pytest.mark.parametrize(
    ("widget", "value"),
    [
        (forms.Select(choices=TEAMS), "ops"),
        (forms.Select(choices=[("", "—"), ("1", "one")], attrs={"required": True, "disabled": False}), None),
        (forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]), ["a", "c"]),
        (forms.Select(choices=ZONES), "UTC"),
        (forms.NullBooleanSelect(), True),
    ],
)
def test_a_select_is_written_as_djangos_templates_write_it(widget: forms.Widget, value: object) -> None:
    attrs = {"id": "id_choice", "aria-invalid": "true"}
    fast = widget.render("choice", value, attrs=attrs, renderer=FormRenderer())
    _same_html(fast, widget.render("choice", value, attrs=attrs, renderer=DjangoTemplates()))
    assert fast.count("<option") >= 2


def test_forms_use_the_projects_renderer_and_escape_the_names(db: None) -> None:
    TeamFactory(name="Ops & <SRE>", slug="ops")
    form = DeclareForm(initial={"team": "ops"})
    assert isinstance(form.renderer, FormRenderer)
    html = str(form["team"])
    assert "Ops &amp; &lt;SRE&gt;</option>" in html
    assert '<option value="ops" selected>' in html
    _same_html(html, str(DeclareForm(initial={"team": "ops"}, renderer=DjangoTemplates())["team"]))
