import pytest
from django import forms

from morgue.forms import error_messages, set_choices


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
