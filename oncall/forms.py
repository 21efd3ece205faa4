import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from morgue.forms import DateTimeLocalInput
from morgue.models import Team
from morgue.validators import validate_plausible_instant

from . import contact
from . import shifts as shift_rules
from .models import Advance, ContactKind, ContactMethod, Level, Rotation


class PageForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.pageable(), to_field_name="slug", empty_label=None)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class PersonField(forms.CharField):
    def clean(self, value):
        username = super().clean(value)
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"There is no person with username {username}.")
        return user


class WindowForm(forms.Form):
    """Times are read on the viewer's wall clock (Django's current time zone)."""

    level = forms.ChoiceField(choices=Level.choices)
    starts_at = forms.DateTimeField(widget=DateTimeLocalInput(), validators=[validate_plausible_instant])
    ends_at = forms.DateTimeField(widget=DateTimeLocalInput(), validators=[validate_plausible_instant])
    reason = forms.CharField(required=False, max_length=200)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "The window must end after it starts.")
        return data


class SwapForm(WindowForm):
    taken_by = PersonField(label="Ask (username)")
    field_order = ["level", "taken_by", "starts_at", "ends_at", "reason"]


class OverrideForm(WindowForm):
    user = PersonField(label="Person (username)")
    field_order = ["level", "user", "starts_at", "ends_at", "reason"]


WINDOW_LINE = re.compile(
    r"^\s*(?P<start_day>[A-Za-z]+)\s+(?P<start_time>\d{1,2}:\d{2})\s*(?:-|–|→|to)\s*"
    r"(?P<end_day>[A-Za-z]+)\s+(?P<end_time>\d{1,2}:\d{2})\s*$"
)


class ScheduleForm(forms.Form):
    """A rotation's schedule as a manager edits it on the page; the service decides the rest."""

    shift_length_days = forms.IntegerField(label="Turn length in days", min_value=1, max_value=28)
    shift_length_hours = forms.IntegerField(
        label="…or in hours (e.g. 12 for follow-the-sun)",
        required=False,
        min_value=shift_rules.MIN_LENGTH_HOURS,
        max_value=shift_rules.MAX_LENGTH_HOURS,
    )
    handoff_time = forms.TimeField(
        label="Handoff time (rotation's zone)", widget=forms.TimeInput(format="%H:%M")
    )
    restrictions = forms.CharField(
        label="Active only in these weekly windows (one a line, e.g. “Mon 09:00 - Mon 17:00”; empty: always)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    advance = forms.ChoiceField(label="Turns advance", choices=Advance.choices)
    layer = forms.IntegerField(
        label="Layer (higher wins; empty: not layered)", required=False, min_value=1, max_value=99
    )
    members = forms.CharField(
        label="Members (usernames, one a line, in order)", widget=forms.Textarea(attrs={"rows": 4})
    )

    @classmethod
    def for_rotation(cls, rotation: Rotation, data=None) -> "ScheduleForm":
        initial = {
            "shift_length_days": rotation.shift_length_days,
            "shift_length_hours": rotation.shift_length_hours,
            "handoff_time": rotation.handoff_time,
            "restrictions": "\n".join(
                f"{window['start_day'].title()} {window['start_time']} - "
                f"{window['end_day'].title()} {window['end_time']}"
                for window in rotation.restrictions
            ),
            "advance": rotation.advance,
            "layer": rotation.layer,
            "members": "\n".join(member.user.username for member in rotation.members.select_related("user")),
        }
        form = cls(data, initial=initial)
        if rotation.everyone_else:
            form.fields["members"].required = False
            form.fields["members"].disabled = True
            form.fields["members"].help_text = "Everyone else in the group, recomputed at each handoff."
        return form

    def clean_restrictions(self) -> list[dict[str, str]]:
        windows = []
        for number, line in enumerate(self.cleaned_data["restrictions"].splitlines(), start=1):
            if not line.strip():
                continue
            match = WINDOW_LINE.match(line)
            if match is None:
                raise forms.ValidationError(f"Line {number} is not a window like “Mon 09:00 - Mon 17:00”.")
            windows.append(match.groupdict())
        try:
            return [window.as_dict() for window in shift_rules.parse_restrictions(windows)]
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def clean_members(self) -> list[User] | None:
        if self.fields["members"].disabled:
            return None
        usernames = [line.strip() for line in self.cleaned_data["members"].splitlines() if line.strip()]
        found = {
            user.username: user
            for user in get_user_model().objects.filter(username__in=usernames, is_active=True)
        }
        unknown = [name for name in usernames if name not in found]
        if unknown:
            raise forms.ValidationError(f"There is no person with username {', '.join(unknown)}.")
        return [found[name] for name in usernames]


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactKind.choices)
    address = forms.CharField(
        max_length=500,
        help_text="Email address, phone number in E.164 (+14155550123), ntfy topic, or webhook URL.",
    )
    label = forms.CharField(max_length=100, required=False)

    def clean(self):
        data = super().clean()
        if data and data.get("kind") and data.get("address"):
            try:
                data["address"] = contact.check_address(data["kind"], data["address"])
            except contact.InvalidAddress as error:
                self.add_error("address", str(error))
        return data


class NotificationRuleForm(forms.Form):
    contact_method = forms.ModelChoiceField(queryset=ContactMethod.objects.none(), empty_label=None)
    delay_minutes = forms.IntegerField(min_value=0, max_value=24 * 60, initial=0, label="After (minutes)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["contact_method"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = ContactMethod.objects.filter(user=user)
