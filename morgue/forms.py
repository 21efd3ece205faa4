from django import forms

from .models import Profile
from .timezones import known_time_zones


class ProfileForm(forms.ModelForm):
    email = forms.EmailField(required=False)
    time_zone = forms.ChoiceField(choices=())

    class Meta:
        model = Profile
        fields = ["display_name", "email", "time_zone", "sleep_start", "sleep_end"]
        widgets = {
            "sleep_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "sleep_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in sorted(known_time_zones())]
        self.fields["email"].initial = self.instance.user.email
