from collections.abc import Iterable

from django import forms

from .models import Profile
from .timezones import known_time_zones


class DateInput(forms.DateInput):
    """A date picker. Browsers read its value only as YYYY-MM-DD, whatever the language's date format."""

    input_type = "date"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    """A date-and-time picker on the wall clock: its value must read YYYY-MM-DDTHH:MM."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, str] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def set_choices(form: forms.BaseForm, name: str, choices: Iterable[tuple[object, str]]) -> None:
    """Give one of a form's choice fields the choices known only when the form is made."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field.")
    field.choices = list(choices)


def error_messages(form: forms.BaseForm) -> list[str]:
    """A bound form's errors as text, field by field, for flash messages."""
    # An ErrorList yields its errors as text (ErrorList.__getitem__), whatever the stubs say.
    return [str(message) for errors in form.errors.values() for message in errors]


class ProfileForm(forms.ModelForm):
    email = forms.EmailField(required=False)
    time_zone = forms.ChoiceField(choices=())

    class Meta:
        model = Profile
        fields = ["display_name", "email", "time_zone", "sleep_start", "sleep_end", "shift_reminder_minutes"]
        widgets = {
            "sleep_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sleep_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_choices(self, "time_zone", ((name, name) for name in sorted(known_time_zones())))
        # Left out of a post, the lead time stays as it was.
        self.fields["shift_reminder_minutes"].required = False
        self.fields[
            "shift_reminder_minutes"
        ].label = "Remind me of a shift this many minutes before (0: never)"
        self.fields["email"].initial = self.instance.user.email
