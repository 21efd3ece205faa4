from django import forms
from django.contrib.auth import get_user_model

from morgue.forms import DateTimeLocalInput
from morgue.models import Team
from morgue.validators import validate_plausible_instant

from . import contact
from .models import ContactKind, ContactMethod, Level


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
