from django import forms

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
