from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from .models import Profile, TokenScope
from .services import API_TOKEN_EXPIRY_CHOICES, EXPIRES_NEVER
from .timezones import known_time_zones

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def _attributes(attrs: Mapping[str, Any]) -> str:
    """As Django's widgets/attrs.html: False left out, True as a bare name, the rest escaped."""
    return "".join(
        f" {name}" if value is True else f' {name}="{conditional_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


def select_html(widget: Mapping[str, Any]) -> SafeString:
    """The HTML Django's select.html template makes from a Select widget's context, made in Python."""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attributes(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'<optgroup label="{conditional_escape(group_name)}">')
        parts.extend(
            f'<option value="{conditional_escape(str(option["value"]))}"{_attributes(option["attrs"])}>'
            f"{conditional_escape(option['label'])}</option>"
            for option in options
        )
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    # Every value above is escaped.
    return mark_safe("".join(parts))


class FormRenderer(DjangoTemplates):
    """Django's renderer, but a <select> is written in Python rather than one template per option.

    A select of 40 teams took 5 ms through the templates, one of 600 time
    zones far more; the HTML is the same (tests/morgue/test_forms.py).
    """

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        widget = context.get("widget")
        if template_name == SELECT_TEMPLATE and widget and _plain_options(widget):
            return select_html(widget)
        return super().render(template_name, context, request=request)


def _plain_options(widget: Mapping[str, Any]) -> bool:
    return all(
        option["template_name"] == OPTION_TEMPLATE
        for _, options, _ in widget["optgroups"]
        for option in options
    )


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
