from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from . import paging_rules
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


def split_matchers(text: str) -> list[str]:
    """Matchers separated by commas, except inside a double-quoted value (as in Alertmanager's {a="x,y"})."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for character in text:
        if character == '"':
            quoted = not quoted
        if character == "," and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def rules_as_lines(rules: list) -> str:
    """The form's text for stored rules: `page: severity=critical, env!=staging`, one a line."""
    return "\n".join(f"{rule['action']}: {', '.join(rule['match'])}".rstrip() for rule in rules)


class PagingPolicyForm(forms.Form):
    rules = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        max_length=20_000,
        help_text="One rule a line, tried in order, the first match wins: "
        "page: severity=critical, env!=staging — or record: check=~Test.*. "
        "An alert no rule matches is recorded.",
    )
    grouping_window_minutes = forms.IntegerField(
        label="Grouping window (minutes)",
        min_value=0,
        max_value=24 * 60,
        help_text="Alerts of the same check this soon after a page opened join it.",
    )

    def clean_rules(self) -> list[dict[str, object]]:
        rules: list[dict[str, object]] = []
        for number, line in enumerate(self.cleaned_data["rules"].splitlines(), start=1):
            if not line.strip():
                continue
            action, colon, matchers = line.partition(":")
            if not colon or action.strip() not in paging_rules.ACTIONS:
                raise forms.ValidationError(f"Line {number} starts with page: or record:.")
            rules.append({"match": split_matchers(matchers), "action": action.strip()})
        try:
            return paging_rules.rules_as_data(paging_rules.parse_rules(rules))
        except paging_rules.RuleError as error:
            raise forms.ValidationError(str(error)) from None


class MaintenanceWindowForm(forms.Form):
    check_pattern = forms.CharField(
        label="Checks", max_length=200, initial="*", help_text="Shell-style pattern: Disk*, *Checkout*, or *."
    )
    starts_at = forms.DateTimeField(
        label="Starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(label="Ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(max_length=200)

    def clean(self):
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "A maintenance window ends after it starts.")
        return cleaned


class OnCallImportForm(forms.Form):
    """Where an on-call import reads from: the vendor's API, or a zip of JSON answers saved from it."""

    source = forms.ChoiceField(
        choices=[("pagerduty", "PagerDuty"), ("opsgenie", "Opsgenie"), ("grafana-oncall", "Grafana OnCall")]
    )
    url = forms.URLField(
        assume_scheme="https",
        required=False,
        label="API address",
        help_text="For example https://api.pagerduty.com",
    )
    token = forms.CharField(required=False, label="API token", widget=forms.PasswordInput)
    archive = forms.FileField(
        required=False, label="Or a zip of saved answers", help_text="One JSON file per API path."
    )
    weeks = forms.IntegerField(min_value=1, max_value=26, initial=8, label="Weeks to verify")
    apply = forms.BooleanField(required=False, label="Import (otherwise only show the plan)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("archive") and not (data.get("url") and data.get("token")):
            raise forms.ValidationError("Give the API address and a token, or a zip of saved answers.")
        return data
