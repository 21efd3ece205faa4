"""HTML forms of the incident pages: parse and validate input, nothing else.

Times are typed on the viewer's wall clock (the active time zone) and stored in UTC.
"""

import re
from collections.abc import Mapping, Sequence

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from incidents.merging import Choice
from incidents.models import (
    MILESTONES,
    POSTMORTEM_FIELDS,
    POSTMORTEM_SECTIONS,
    EventKind,
    Impact,
    Incident,
    ProblemType,
    Status,
)
from incidents.models.incident import severity_choices
from morgue.exceptions import MorgueError
from morgue.forms import DateInput, DateTimeLocalInput, set_choices
from morgue.models import Team, display_name
from morgue.validators import validate_plausible_instant

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
MAX_SECTION_CHARS = 100_000


def add_refusal(form: forms.BaseForm, error: Exception) -> None:
    """Show why a service refused a save: each sentence on its field, else above the form."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    elif isinstance(error, MorgueError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
    else:
        form.add_error(None, str(error))


def local_datetime_field(label: str, *, required: bool = False) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        widget=DateTimeLocalInput(),
        validators=[validate_plausible_instant],
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        error_messages={"invalid": f"{label}: give a date and time such as 2026-03-01 14:05."},
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{display_name(obj)} ({obj.username})"


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{display_name(obj)} ({obj.username})"


def people():
    return get_user_model().objects.filter(is_active=True).select_related("profile").order_by("username")


class IncidentFilterForm(forms.Form):
    search = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={"type": "search"}))
    status = forms.ChoiceField(required=False, choices=[("", "any"), *Status.choices])
    severity = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=[("", "any")])
    team = forms.ChoiceField(required=False, choices=[("", "any")])
    tag = forms.CharField(required=False, max_length=50)
    started_after = forms.DateField(required=False, widget=DateInput(), label="From")
    started_before = forms.DateField(required=False, widget=DateInput(), label="Before")
    sort = forms.ChoiceField(required=False, choices=[("newest", "newest first"), ("oldest", "oldest first")])
    deleted = forms.BooleanField(required=False, label="Deleted only")

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        set_choices(
            self, "severity", [("", "any"), *((level, str(level)) for level, _ in severity_choices())]
        )
        set_choices(self, "team", [("", "any"), *((team.slug, team.name) for team in teams)])


class IncidentForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(max_length=200)
    severity = forms.TypedChoiceField(coerce=int, choices=(), initial=3)
    status = forms.ChoiceField(choices=Status.choices, initial=Status.OPEN)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, to_field_name="slug"
    )
    affected_service = forms.CharField(max_length=100, required=False)
    problem_type = forms.ChoiceField(choices=[("", "—"), *ProblemType.choices], required=False)
    impact_type = forms.ChoiceField(choices=[("", "—"), *Impact.choices], required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. database, dns, vendor-outage.")
    contact = PersonChoiceField(queryset=people(), required=False, to_field_name="username")
    facilitator = PersonChoiceField(queryset=people(), required=False, to_field_name="username")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_choices(self, "severity", severity_choices())
        for name, label in MILESTONES:
            required = name in ("impact_started", "detected")
            self.fields[f"{name}_at"] = local_datetime_field(label, required=required)
            self.fields[f"{name}_source"] = forms.CharField(
                max_length=200, required=False, label=f"{label}: source",
                widget=forms.TextInput(attrs={"placeholder": "alert, chat log, graph, estimate…"}),
            )  # fmt: skip
        for name, label, prompt in POSTMORTEM_SECTIONS:
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_SECTION_CHARS,
                strip=False,
                help_text=prompt,
                widget=forms.Textarea(attrs={"rows": 6, "data-check": "1"}),
            )

    @classmethod
    def initial_for(cls, incident: Incident) -> dict:
        initial = {name: getattr(incident, name) for name in cls.base_fields if hasattr(incident, name)}
        for name, _ in MILESTONES:
            initial[f"{name}_at"] = getattr(incident, f"{name}_at")
            initial[f"{name}_source"] = getattr(incident, f"{name}_source")
        for name, _, _ in POSTMORTEM_SECTIONS:
            initial[name] = getattr(incident, name)
        initial["team"] = incident.team.slug if incident.team else None
        initial["contact"] = incident.contact.username if incident.contact else None
        initial["facilitator"] = incident.facilitator.username if incident.facilitator else None
        initial["tags"] = ", ".join(sorted(tag.name for tag in incident.tags.all()))
        initial["version"] = incident.version
        return initial

    def clean_tags(self) -> list[str]:
        names = [name.strip().lower() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        bad = [name for name in names if not TAG_PATTERN.match(name)]
        if bad:
            raise forms.ValidationError(
                f"Tags are lowercase letters, digits and hyphens; not {', '.join(bad[:5])}."
            )
        return names

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        probe = Incident(**{f"{name}_at": cleaned.get(f"{name}_at") for name, _ in MILESTONES})
        for field, messages in probe.order_errors().items():
            for message in messages:
                self.add_error(field, message)
        return cleaned

    def changes(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if "status" not in self.changed_data:
            # Left as shown: the status follows the times (Incident.move_to), so a
            # resolution time typed into an open incident resolves it.
            data.pop("status", None)
        for name in ("problem_type", "impact_type"):
            data[name] = data.get(name) or ""
        return data

    def section_fields(self):
        return [self[name] for name, _, _ in POSTMORTEM_SECTIONS]

    def milestone_fields(self):
        return [(self[f"{name}_at"], self[f"{name}_source"]) for name, _ in MILESTONES]


class ConflictChoicesForm(forms.Form):
    """How a person settles each field both saves changed: keep theirs, mine, or (postmortem text) both."""

    prefix = "resolve"

    def __init__(self, *args, names: Sequence[str] = (), labels: Mapping[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = labels or {}
        for name in names:
            text = name in POSTMORTEM_FIELDS
            options = [(Choice.THEIRS, "Keep theirs"), (Choice.MINE, "Keep mine")]
            if text:
                options.append((Choice.BOTH, "Keep both (theirs, then mine)"))
            self.fields[name] = forms.ChoiceField(
                label=labels.get(name, name),
                choices=options,
                required=False,
                widget=forms.RadioSelect,
                # Keeping both loses nothing; for other fields the form below shows mine.
                initial=Choice.BOTH if text else Choice.MINE,
            )

    def choices(self) -> dict[str, Choice]:
        return {name: Choice(value) for name, value in self.cleaned_data.items() if value}


class TimelineEventForm(forms.Form):
    occurred_at = local_datetime_field("Time", required=True)
    kind = forms.ChoiceField(choices=EventKind.choices, initial=EventKind.ACTION)
    text = forms.CharField(max_length=10_000, widget=forms.TextInput(attrs={"size": 60}))
    link = forms.URLField(required=False, max_length=2000, assume_scheme="https")


class ReviewForm(forms.Form):
    facilitator = PersonChoiceField(queryset=people(), to_field_name="username")
    starts_at = local_datetime_field("Starts", required=True)
    duration_minutes = forms.IntegerField(min_value=15, max_value=480, initial=60, label="Minutes")
    location = forms.CharField(max_length=200, required=False, help_text="A room or a video-call link.")
    attendees = PeopleChoiceField(
        queryset=people(),
        required=False,
        to_field_name="username",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    send_invitation = forms.BooleanField(
        required=False, initial=True, label="Email the invitation to attendees"
    )
