import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from morgue.forms import DateInput, set_choices
from morgue.models import Profile, Team
from morgue.spreadsheets import SafeWriter
from morgue.validators import validate_plausible_instant

from ..models import Severity
from ..selectors.metrics import IncidentFilters
from ..selectors.report import incident_report, incident_rows


class IncidentReportForm(forms.Form):
    since = forms.DateField(
        required=False,
        validators=[validate_plausible_instant],
        widget=DateInput(),
    )
    until = forms.DateField(
        required=False,
        validators=[validate_plausible_instant],
        widget=DateInput(),
        help_text="inclusive",
    )
    severity = forms.TypedMultipleChoiceField(
        required=False,
        coerce=int,
        choices=[(level, f"sev {level}") for level in Severity.values],
        widget=forms.CheckboxSelectMultiple,
    )
    team = forms.ChoiceField(required=False)
    tag = forms.SlugField(required=False)
    deploy_related = forms.NullBooleanField(
        required=False,
        label="Deploy related",
        widget=forms.Select(
            choices=[("", "any"), ("true", "deploy related"), ("false", "not deploy related")]
        ),
    )
    compare_since = forms.DateField(
        required=False,
        validators=[validate_plausible_instant],
        widget=DateInput(),
        label="Compare with: since",
    )
    compare_until = forms.DateField(
        required=False,
        validators=[validate_plausible_instant],
        widget=DateInput(),
        label="until",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_choices(self, "team", [("", "any team"), *Team.objects.values_list("slug", "name")])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for start, end in (("since", "until"), ("compare_since", "compare_until")):
            if data.get(start) and data.get(end) and data[end] < data[start]:
                self.add_error(end, f"{end.replace('_', ' ')} must not be before {start.replace('_', ' ')}.")
        if bool(data.get("compare_since")) != bool(data.get("compare_until")):
            self.add_error("compare_until", "Give both dates of the period to compare with.")
        return data


def _midnight(day: dt.date | None, zone, *, after: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    if after:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def _filters(data: dict, zone, prefix: str = "") -> IncidentFilters:
    return IncidentFilters(
        since=_midnight(data.get(f"{prefix}since"), zone),
        until=_midnight(data.get(f"{prefix}until"), zone, after=True),
        severity=data.get("severity") or None,
        team=data.get("team") or None,
        tag=data.get("tag") or None,
        deploy_related=data.get("deploy_related"),
    )


def incident_report_page(request: HttpRequest) -> HttpResponse:
    zone = Profile.objects.for_user(request.user).zone
    today = timezone.now().astimezone(zone).date()
    initial = {"since": today - dt.timedelta(days=365), "until": today}
    form = IncidentReportForm(request.GET or None, initial=initial)
    if request.GET and not form.is_valid():
        return render(request, "incidents/report.html", {"form": form}, status=400)
    data = form.cleaned_data if request.GET else initial
    filters = _filters(data, zone)
    compare_with = _filters(data, zone, prefix="compare_") if data.get("compare_since") else None

    if request.GET.get("format") == "csv":
        return _csv(incident_rows(filters), zone)
    report = incident_report(filters=filters, zone=zone, compare_with=compare_with)
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "incidents/report.html",
        {"form": form, "report": report, "csv_query": query.urlencode(), "compare_with": compare_with},
    )


def _csv(rows, zone) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
    writer = SafeWriter(response)
    writer.writerow(
        [
            "id",
            "title",
            "severity",
            "status",
            "team",
            f"impact started ({zone.key})",
            "time_to_detect_seconds",
            "time_to_resolve_seconds",
            "impact_seconds",
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.incident_id,
                row.title,
                row.severity,
                row.status,
                row.team,
                row.started.astimezone(zone).isoformat(),
                row.time_to_detect,
                row.time_to_resolve,
                row.impact,
            ]
        )
    return response
