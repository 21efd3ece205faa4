"""Forms for running an incident: declare, assign a role, post a status update."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from incidents.forms import local_datetime_field
from incidents.models import RoleKind
from incidents.models.incident import severity_choices
from morgue.models import Team


class DeclareForm(forms.Form):
    title = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "What is broken, for whom"})
    )
    severity = forms.TypedChoiceField(coerce=int, choices=severity_choices, initial=3)
    team = forms.ModelChoiceField(
        queryset=Team.objects.only("id", "slug", "name"), to_field_name="slug", empty_label="Choose a team"
    )
    page_the_team = forms.BooleanField(required=False, label="Page the team now")
    page = forms.IntegerField(required=False, widget=forms.HiddenInput)


class RoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=RoleKind.objects.all(), to_field_name="slug", empty_label=None)
    user = forms.CharField(
        label="Person",
        max_length=150,
        widget=forms.TextInput(
            attrs={"list": "role-people", "autocomplete": "off", "placeholder": "username"}
        ),
    )

    def clean_user(self) -> User:
        username = self.cleaned_data["user"].strip()
        person = get_user_model().objects.filter(username=username, is_active=True).first()
        if person is None:
            raise forms.ValidationError(f"Nobody active is called {username}.")
        return person


class StatusUpdateForm(forms.Form):
    affected = forms.CharField(
        label="What is affected",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For people outside the response: which service, which customers.",
    )
    doing = forms.CharField(
        label="What we are doing", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    next_update_at = local_datetime_field("Next update at")
