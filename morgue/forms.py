from collections.abc import Iterable

from django import forms

from .models import Profile, TokenScope
from .services import API_TOKEN_EXPIRY_CHOICES, EXPIRES_NEVER
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


class ApiTokenForm(forms.Form):
    """A new API token: what it is for, what it may do, when it stops working."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. the script that uses it.")
    scope = forms.ChoiceField(choices=TokenScope.choices, initial=TokenScope.READ)
    expires = forms.ChoiceField(label="Expires", choices=API_TOKEN_EXPIRY_CHOICES, initial="90")
    expires_on = forms.DateField(
        label="Expiry date", required=False, widget=DateInput(), help_text="When “On a date” is chosen."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            set_choices(self, "expires", [c for c in API_TOKEN_EXPIRY_CHOICES if c[0] != EXPIRES_NEVER])
