"""The filter form of the audit pages and API (dates are the viewer's local days)."""

import datetime as dt

from django import forms
from django.utils import timezone

from . import Action
from .selectors import AuditFilters


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, help_text='A user name, or "system".')
    kind = forms.CharField(required=False, max_length=100, label="Kind of object")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *Action.choices])
    since = forms.DateField(required=False, label="From (day)")
    until = forms.DateField(required=False, label="To (day, included)")

    def clean(self):
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The last day must not come before the first.")
        return data

    def filters(self) -> AuditFilters:
        """The filters asked for; call after is_valid()."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def midnight(day: dt.date | None) -> dt.datetime | None:
            return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=zone)

        until = data.get("until")
        return AuditFilters(
            actor=data.get("actor", "").strip(),
            kind=data.get("kind", "").strip(),
            object_id=data.get("object_id", "").strip(),
            action=data.get("action", ""),
            since=midnight(data.get("since")),
            until=midnight(until + dt.timedelta(days=1) if until else None),
        )
