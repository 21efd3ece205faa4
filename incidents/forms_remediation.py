"""HTML forms for remediation items: add/edit, status change, and the board's filters."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from incidents.models import RemediationCategory, RemediationKind, RemediationPriority, RemediationStatus
from incidents.selectors.remediation import BoardFilters
from morgue.forms import DateInput
from morgue.models import Team


def _blank(choices) -> list[tuple[str, str]]:
    return [("", "any"), *choices]


class RemediationItemForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(choices=RemediationKind.choices)
    category = forms.ChoiceField(choices=RemediationCategory.choices)
    owner = forms.CharField(max_length=150, help_text="Username.")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), to_field_name="slug", required=False)
    priority = forms.ChoiceField(
        choices=RemediationPriority.choices, initial=RemediationPriority.NORMAL, required=False
    )
    ticket_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    due_date = forms.DateField(required=False, widget=DateInput())
    reminders_muted = forms.BooleanField(required=False, label="Mute reminders")

    def clean_priority(self) -> str:
        return self.cleaned_data["priority"] or RemediationPriority.NORMAL

    def clean_owner(self):
        username = self.cleaned_data["owner"].strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(f"No person has the username “{username}”.")
        return user


class RemediationStatusForm(forms.Form):
    status = forms.ChoiceField(choices=RemediationStatus.choices)
    reason = forms.CharField(required=False, max_length=2000)


class BoardFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=_blank(RemediationKind.choices), required=False)
    status = forms.ChoiceField(choices=_blank(RemediationStatus.choices), required=False)
    owner = forms.CharField(required=False, max_length=150)
    team = forms.CharField(required=False, max_length=50)
    category = forms.ChoiceField(choices=_blank(RemediationCategory.choices), required=False)
    severity = forms.TypedChoiceField(
        choices=[("", "any"), *[(str(n), str(n)) for n in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
    )
    overdue = forms.BooleanField(required=False)
    incident = forms.IntegerField(required=False, min_value=1)
    mine = forms.BooleanField(required=False)
    sort = forms.ChoiceField(choices=[("due", "due date ↑"), ("-due", "due date ↓")], required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def filters(self, user) -> BoardFilters:
        """The filters that were given and valid; a refused one is left out (the page names it)."""
        self.is_valid()
        data = self.cleaned_data
        return BoardFilters(
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            owner=user.username if data.get("mine") else (data.get("owner") or "").strip(),
            team=(data.get("team") or "").strip(),
            category=data.get("category") or "",
            severity=data.get("severity"),
            overdue=bool(data.get("overdue")),
            incident=data.get("incident"),
            descending=data.get("sort") == "-due",
        )

    def refusals(self) -> list[str]:
        """A sentence per refused filter, naming it: "Severity: Select a valid choice…"."""
        return [
            f"{self.fields[name].label or name.capitalize()}: {error}" if name in self.fields else str(error)
            for name, errors in self.errors.items()
            for error in errors
        ]
