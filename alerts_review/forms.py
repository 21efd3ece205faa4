from django import forms
from django.contrib.auth import get_user_model

from .models import Track


class ClassifyForm(forms.Form):
    category = forms.SlugField(required=False)
    note = forms.CharField(required=False, max_length=10_000)
    woke_me_up = forms.BooleanField(required=False)


class ClassifyCheckForm(forms.Form):
    check = forms.CharField(max_length=200)
    category = forms.SlugField()


class ReviewForm(forms.Form):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000)


class ActForm(forms.Form):
    check = forms.CharField(max_length=200)
    reason = forms.CharField(max_length=40)
    summary = forms.CharField(max_length=300)
    track = forms.ChoiceField(choices=Track.choices)
    owner = forms.CharField(
        required=False, max_length=150, help_text="Username of the item's owner; the reviewer when empty."
    )

    def clean_owner(self):
        username = self.cleaned_data["owner"].strip()
        if not username:
            return None
        owner = get_user_model().objects.filter(username=username, is_active=True).first()
        if owner is None:
            raise forms.ValidationError(f"Nobody active has the username {username!r}: choose another owner.")
        return owner
