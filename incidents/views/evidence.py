"""HTML for the incident evidence: the deploy log page and the incident page's evidence panel actions."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from morgue import charts
from morgue.auth import SignedInRequest
from morgue.exceptions import MorgueError
from morgue.forms import DateInput, DateTimeLocalInput, set_choices
from morgue.paging import log_page
from morgue.permissions import requires
from morgue.submissions import submit_once
from morgue.timezones import is_time_zone, zone

from ..models import Deploy, GraphSnapshot, Incident
from ..selectors import deploy as selectors
from ..services.chatlog import (
    DatesOutsideIncident,
    SlackChoice,
    UnparseableLog,
    import_chat_log,
    pick_from_slack_export,
)
from ..services.deploy import link_deploy, unlink_deploy
from ..services.graph import add_graph_snapshot
from ..slack_export import MAX_ZIP_BYTES, looks_like_zip
from .incident import detail_page

DEPLOYS_PER_PAGE = 100
CHART_DAYS = 60
MAX_UNPARSED_SHOWN = 20
MAX_LOG_BYTES = 2 * 1024 * 1024


class DeployLogForm(forms.Form):
    stack = forms.ChoiceField(required=False)
    environment = forms.ChoiceField(required=False)
    deployer = forms.CharField(required=False, max_length=100)
    since = forms.DateField(required=False, widget=DateInput())
    until = forms.DateField(required=False, widget=DateInput(), help_text="inclusive")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stacks, environments = selectors.deploy_filter_choices()
        set_choices(self, "stack", [("", "any stack"), *((name, name) for name in stacks)])
        set_choices(self, "environment", [("", "any environment"), *((name, name) for name in environments)])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "The end of the period must not be before its start.")
        return data


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _deploys_chart(
    queryset, *, since: dt.datetime | None, until: dt.datetime | None
) -> tuple[charts.Chart | None, int]:
    """Deploys per local day over the filtered period (else the last CHART_DAYS days), and their sum."""
    now = timezone.now()
    today = timezone.localdate(now)
    since = since or _local_midnight(today - dt.timedelta(days=CHART_DAYS - 1))
    # A deploy recorded with a future date must not stretch the chart to that day.
    until = until or _local_midnight(today + dt.timedelta(days=1))
    counts = selectors.deploys_per_day(
        queryset.started_between(since, until), zone=timezone.get_current_timezone()
    )
    if not counts:
        return None, 0
    chart = charts.bar_chart(
        "Deploys per day",
        [day.strftime("%d %b") for day, _ in counts],
        [charts.Series("deploys", [count for _, count in counts])],
        y_label="deploys",
        x_label="day",
    )
    return chart, sum(count for _, count in counts)


@require_GET
def deploy_log(request: SignedInRequest) -> HttpResponse:
    """The deploy log: newest first, one line per deploy, with filters and deploys per day."""
    form = DeployLogForm(request.GET or None)
    filters: dict = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {key: data[key] for key in ("stack", "environment", "deployer") if data[key]}
        if data["since"]:
            filters["since"] = _local_midnight(data["since"])
        if data["until"]:
            filters["until"] = _local_midnight(data["until"] + dt.timedelta(days=1))
    deploys = selectors.deploy_log(**filters)
    # Paged by cursor and never counted: the log grows by every deploy. The
    # chart's days are counted, so the page says how many deploys they hold.
    page = log_page(request, deploys, position="started_at", size=DEPLOYS_PER_PAGE)
    chart, charted = _deploys_chart(deploys, since=filters.get("since"), until=filters.get("until"))
    return render(
        request,
        "incidents/deploys.html",
        {"form": form, "page": page, "chart": chart, "charted": charted},
    )


def _incident(incident_id: int) -> Incident:
    return get_object_or_404(Incident.objects.visible(), pk=incident_id)


def _incident_url(incident: Incident) -> str:
    """The incident's evidence panel (the deploy log if the incident page is not installed)."""
    try:
        return incident.get_absolute_url() + "#evidence"
    except NoReverseMatch:
        return reverse("incidents:deploy-log")


def _back(incident: Incident) -> HttpResponse:
    return redirect(_incident_url(incident))


@require_POST
@requires("edit", Incident, "incident_id")
def link_deploy_view(request: SignedInRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    deploy_id = request.POST.get("deploy", "")
    deploy = Deploy.objects.filter(pk=deploy_id).first() if deploy_id.isdigit() else None
    if deploy is None:
        messages.error(request, "That deploy does not exist.")
        return _back(incident)
    link_deploy(incident=incident, deploy=deploy, user=request.user)
    messages.success(request, f"Linked the deploy {deploy.summary()}; it is on the timeline.")
    return _back(incident)


@require_POST
@requires("edit", Incident, "incident_id")
def unlink_deploy_view(request: SignedInRequest, incident_id: int, deploy_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    deploy = get_object_or_404(Deploy, pk=deploy_id)
    unlink_deploy(incident=incident, deploy=deploy)
    messages.success(request, "The deploy is no longer linked.")
    return _back(incident)


class GraphForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    url = forms.URLField(max_length=2000, required=False, assume_scheme="https")
    image = forms.FileField(required=False)
    pinned_at = forms.DateTimeField(required=False, widget=DateTimeLocalInput(), label="Pin to moment")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        url, image = data.get("url"), data.get("image")
        if url and not url.lower().startswith(("http://", "https://")):
            self.add_error("url", "Only http and https URLs can be fetched.")
        if not url and not image and "url" not in self.errors:
            self.add_error("url", "Give the graph's URL or drop its image.")
        if not data.get("title"):
            data["title"] = image.name if image else "Graph"
        return data


@require_http_methods(["GET", "POST"])
@requires("edit", Incident, "incident_id")
def add_graph_view(request: SignedInRequest, incident_id: int) -> HttpResponse:
    incident = _incident(incident_id)
    if request.method == "GET":
        return _back(incident)
    form = GraphForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            snapshot = add_graph_snapshot(
                incident=incident,
                title=data["title"],
                url=data["url"] or "",
                upload=data["image"],
                pinned_at=data["pinned_at"],
                user=request.user,
            )
            if snapshot.status == "captured":
                messages.success(request, f"The graph “{snapshot.title}” is stored with the incident.")
            else:
                messages.success(
                    request, f"The graph “{snapshot.title}” is being captured; reload to see it."
                )
            return _incident_url(incident)

        try:
            return submit_once(request, write)
        except MorgueError as error:
            form.add_error(error.field if error.field in form.fields else "url", error.message)
    # Shown again on the incident page, as typed, with each field's sentence.
    return detail_page(request, incident, status=400, graph_form=form)


@require_GET
def graph_image(request: SignedInRequest, snapshot_id: int) -> FileResponse:
    """A stored snapshot, served to signed-in people whatever the storage backend."""
    snapshot = get_object_or_404(GraphSnapshot, pk=snapshot_id, incident__deleted_at__isnull=True)
    if not snapshot.image:
        raise Http404("This snapshot has no stored image.")
    try:
        image = snapshot.image.open("rb")
    except FileNotFoundError:
        # The row names a file the storage lacks (lost, or not yet copied by store_media_files).
        raise Http404("This snapshot's image is missing from the file storage.") from None
    response = FileResponse(image, content_type=snapshot.content_type)
    # Only sniffed PNG, JPEG and GIF are stored; this keeps browsers from guessing otherwise.
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, max-age=86400"
    return response


def _chatlog_preview(request, incident, text: str, time_zone: str, *, status: int = 200, **context):
    """The preview page of a pasted log: what would be imported, and what could not be read."""
    return render(
        request,
        "incidents/chatlog_preview.html",
        {
            "incident": incident,
            "back_url": _incident_url(incident),
            "text": text,
            "time_zone": time_zone,
            **context,
        },
        status=status,
    )


def _read_upload(request, incident: Incident, time_zone: str) -> tuple[str, SlackChoice | None]:
    """An uploaded client log's text, or the messages picked from an uploaded Slack export ZIP."""
    upload = request.FILES["file"]
    head = upload.read(4)
    upload.seek(0)
    if not looks_like_zip(upload.name or "", head):
        content = upload.read(MAX_LOG_BYTES + 1)
        if len(content) > MAX_LOG_BYTES:
            raise MorgueError(
                f"The file is larger than the {MAX_LOG_BYTES // (1024 * 1024)} MB limit; "
                "upload the part of the log around the incident.",
                field="file",
            )
        return content.decode("utf-8-sig", errors="replace"), None
    content = upload.read(MAX_ZIP_BYTES + 1)
    if len(content) > MAX_ZIP_BYTES:
        raise MorgueError(
            f"The archive is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB; "
            "export only the war-room channel.",
            field="file",
        )
    try:
        days = [dt.date.fromisoformat(day) for day in request.POST.getlist("days")]
    except ValueError as error:
        raise MorgueError("Days are given as YYYY-MM-DD.", field="days") from error
    slack = pick_from_slack_export(
        incident=incident,
        data=content,
        channel=request.POST.get("channel", ""),
        days=days,
        zone=zone(time_zone),
    )
    return slack.text, slack


@require_http_methods(["GET", "POST"])
@requires("edit", Incident, "incident_id")
def chatlog_view(request: SignedInRequest, incident_id: int) -> HttpResponse:
    """Preview a pasted war-room log or an uploaded Slack export, or import it into the timeline."""
    incident = _incident(incident_id)
    if request.method == "GET":
        # The preview's address, opened again from history or the address bar.
        return _back(incident)
    text = request.POST.get("text", "")
    time_zone = request.POST.get("time_zone", "")
    if not is_time_zone(time_zone):
        time_zone = request.user.profile.time_zone if hasattr(request.user, "profile") else "UTC"
    preview = request.POST.get("action") != "import"
    slack: SlackChoice | None = None
    if "file" in request.FILES:
        try:
            text, slack = _read_upload(request, incident, time_zone)
        except MorgueError as error:
            return _chatlog_preview(
                request, incident, "", time_zone, status=400, result=None, error=error, unparsed=[]
            )
    if not text.strip():
        messages.error(request, "Paste a chat log or upload a Slack export.")
        return _back(incident)
    import_error: MorgueError | None = None
    try:
        result = import_chat_log(
            incident=incident,
            text=text,
            zone=zone(time_zone),
            dry_run=preview,
            confirm_dates=request.POST.get("confirm_dates") == "on",
            user=request.user,
        )
    except UnparseableLog as error:
        messages.error(request, error.message)
        return _chatlog_preview(
            request, incident, text, time_zone, status=400,
            result=None, error=error, unparsed=error.extra["unparsed"],
        )  # fmt: skip
    except DatesOutsideIncident as error:
        # Shown again with the sentence, beside the box that confirms the dates.
        import_error = error
        result = import_chat_log(
            incident=incident, text=text, zone=zone(time_zone), dry_run=True, user=request.user
        )
    if preview or import_error:
        return _chatlog_preview(
            request, incident, text, time_zone, status=400 if import_error else 200,
            result=result, rows=list(zip(result.lines, result.new, strict=True)), unparsed=result.unparsed,
            slack=slack, import_error=import_error,
        )  # fmt: skip
    already = len(result.lines) - result.imported
    messages.success(
        request,
        f"Imported {result.imported} line{'s' if result.imported != 1 else ''} into the timeline"
        + (f"; {already} were already there." if already else "."),
    )
    for line in result.unparsed[:MAX_UNPARSED_SHOWN]:
        messages.warning(request, f"Line {line.line_number} could not be parsed: {line.line}")
    if len(result.unparsed) > MAX_UNPARSED_SHOWN:
        messages.warning(request, f"… and {len(result.unparsed) - MAX_UNPARSED_SHOWN} more unparsed lines.")
    return _back(incident)
