"""Pages: the on-call person's shift review and the monthly report."""

import secrets
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.selectors.remediation import form_choices
from morgue import charts, numbers, permissions
from morgue.auth import SignedInRequest
from morgue.exceptions import MorgueError
from morgue.forms import error_messages
from morgue.models import Team
from morgue.permissions import requires
from morgue.spreadsheets import SafeWriter
from morgue.submissions import submit_once
from oncall.importers import ImportFailed, read_plan, reader_for
from oncall.models import Page, Shift

from . import paging, selectors, services
from .exceptions import BadMonth
from .forms import (
    ActForm,
    ClassifyCheckForm,
    ClassifyForm,
    MaintenanceWindowForm,
    OnCallImportForm,
    PagingPolicyForm,
    ReviewForm,
    rules_as_lines,
)
from .imports import import_oncall, summarise
from .models import Alert, AlertReview, Category, Heartbeat, MaintenanceWindow, ReviewAction

# What the report's "Decided" list shows of each action's remediation item.
DECIDED_RELATED = ("remediation__owner__profile",)


@require_GET
def review(request: SignedInRequest, shift_id: int | None = None) -> HttpResponse:
    now = timezone.now()
    if shift_id is None:
        shift = selectors.last_shift(user=request.user, at=now)
    else:
        shift = get_object_or_404(Shift.objects.select_related("rotation__team", "user"), pk=shift_id)
    context: dict = {"shift": shift, "categories": list(Category.objects.all())}
    if shift is not None:
        context["review"] = selectors.shift_review(shift=shift, at=now, page=request.GET.get("page"))
        context["earlier"] = (
            Shift.objects.filter(user=shift.user, starts_at__lt=shift.starts_at)
            .order_by("-starts_at")
            .first()
        )
        context["last_month"] = f"{selectors.previous_month(now.date().replace(day=1)):%Y-%m}"
    return render(request, "alerts_review/review.html", context)


def _back_to_review(request: SignedInRequest, anchor: str = "") -> HttpResponse:
    target = request.POST.get("next", "")
    if not target.startswith("/alerts/") or target.startswith("//"):
        target = reverse("alerts_review:review")
    return redirect(f"{target}#{anchor}" if anchor else target)


@require_POST
@requires("classify", Alert, "alert_id")
def classify(request: SignedInRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("team"), pk=alert_id)
    form = ClassifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error_messages(form)))
        return _back_to_review(request)
    try:
        services.classify_alert(
            alert=alert,
            by=request.user,
            category=services.category_by_slug(form.cleaned_data["category"]),
            note=form.cleaned_data["note"],
            woke_me_up=form.cleaned_data["woke_me_up"],
        )
    except MorgueError as error:
        messages.error(request, error.message)
    return _back_to_review(request, f"alert-{alert.pk}")


@require_POST
@requires("classify", Shift, "shift_id")
def classify_check(request: SignedInRequest, shift_id: int) -> HttpResponse:
    shift = get_object_or_404(Shift.objects.select_related("rotation__team"), pk=shift_id)
    form = ClassifyCheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(error_messages(form)))
        return _back_to_review(request)
    try:
        category = services.category_by_slug(form.cleaned_data["category"])
        assert category is not None  # the form requires a slug, and an unknown one raises
        count = services.classify_check_in_shift(
            shift=shift, check=form.cleaned_data["check"], category=category, by=request.user
        )
    except MorgueError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{count} alerts of {form.cleaned_data['check']} are now {category.slug}.")
    return _back_to_review(request)


@require_GET
def latest_report(request: SignedInRequest) -> HttpResponse:
    month = selectors.previous_month(timezone.now().date().replace(day=1))
    return redirect("alerts_review:report", month=f"{month:%Y-%m}")


def _report_arguments(request: SignedInRequest, month: str):
    try:
        first = selectors.parse_month(month)
        zone = selectors.parse_zone(request.GET.get("tz"))
    except BadMonth as error:
        raise Http404(error.message) from None
    slug = request.GET.get("team")
    team = get_object_or_404(Team, slug=slug) if slug else None
    return first, zone, team


# Checks and people listed on the report page; the rest are summed in one row (the CSV has every check).
PAGE_ROWS = 30


def _page_report(first, team, zone) -> dict:
    """The report as the page shows it: the noisiest checks and most paged people.

    A team's page lists every recommendation, each with its form to act on
    it; all teams' page (no forms) lists the first.
    """
    return selectors.monthly_report(
        month=first,
        team=team,
        zone=zone,
        with_heatmap=True,
        limit=PAGE_ROWS,
        limit_recommendations=team is None,
    )


@require_GET
def report(request: SignedInRequest, month: str) -> HttpResponse:
    first, zone, team = _report_arguments(request, month)
    if request.GET.get("format") == "csv":
        # Every check, however many: the page shows the noisiest and links here for the rest.
        return _report_csv(selectors.monthly_report(month=first, team=team, zone=zone), first, team)
    data = _page_report(first, team, zone)
    return _report_page(request, data, first, zone, team)


def _report_page(request: SignedInRequest, data, first, zone, team, *, status=200, **refused) -> HttpResponse:
    """The report page; `refused` holds a refused form of it, shown again as typed with its errors."""
    review_record = (
        AlertReview.objects.filter(team=team, month=first)
        .prefetch_related(Prefetch("actions", ReviewAction.objects.select_related(*DECIDED_RELATED)))
        .first()
        if team
        else None
    )
    acted = (
        {(action.check_name, action.reason) for action in review_record.actions.all()}
        if review_record
        else set()
    )
    context = {
        "month": first,
        "month_label": f"{first:%B %Y}",
        "zone": zone.key,
        "team": team,
        "teams": Team.objects.all(),
        "report": data,
        "previous_month": f"{selectors.previous_month(first):%Y-%m}",
        "next_month": f"{selectors.next_month(first):%Y-%m}",
        "review_record": review_record,
        # The decided items' status and edit forms offer these (two queries, only when there are any).
        "remediation_choices": form_choices() if acted else None,
        "review_form": ReviewForm(initial={"notes": review_record.notes if review_record else ""}),
        "recommendations": [
            {**item, "acted": (item["check"], item["reason"]) in acted} for item in data["recommendations"]
        ],
        "unclassified": data["total"] - data["classified"],
        "previous_rows": _comparison_rows(data),
    }
    context.update(_charts(data, zone.key))
    # Shown at a form's own address after a refusal, the page's other forms
    # still go back to the report once saved.
    query = f"?team={team.slug}" if team else ""
    context["back_url"] = reverse("alerts_review:report", args=[f"{first:%Y-%m}"]) + query
    context.update(refused)
    return render(request, "alerts_review/report.html", context, status=status)


# The month-to-month comparison's figures as the page words them; ratios read as
# percentages and their changes in percentage points.
FIGURE_LABELS = {
    "total": "Alerts",
    "classified": "Classified",
    "coverage": "Coverage",
    "actionable": "Actionable",
    "not_actionable": "Not actionable",
    "signal_to_noise": "Signal to noise",
    "out_of_hours": "Out of hours",
    "woke_people": "Woke someone up",
}
RATIO_FIGURES = {"coverage", "signal_to_noise"}


def _comparison_rows(data: dict) -> list[dict[str, str]]:
    """This month against the one before, each figure labelled and formatted (the API keeps the numbers)."""
    previous = data["previous_month"]
    rows = []
    for key in selectors.TOP_LEVEL:
        ratio = key in RATIO_FIGURES
        shown = numbers.percent if ratio else numbers.count
        change = numbers.percent_points if ratio else numbers.signed_count
        rows.append(
            {
                "label": FIGURE_LABELS[key],
                "now": shown(data[key]),
                "before": shown(previous[key]),
                "change": change(previous["change"][key]),
            }
        )
    return rows


CHART_CHECKS = 15


def _charts(data: dict, zone: str) -> dict:
    """The report's charts; each carries its numbers as a table too."""
    checks = data["by_check"][:CHART_CHECKS]
    days = [str(int(row["day"][-2:])) for row in data["by_day"]]
    return {
        "signal_chart": charts.bar_chart(
            f"Signal and noise per check (the {len(checks)} noisiest)",
            [row["check"] for row in checks],
            [
                charts.Series("Actionable", [row["actionable"] for row in checks]),
                charts.Series("Not actionable", [row["not_actionable"] for row in checks]),
                charts.Series(
                    "Unclassified or n/a",
                    [row["total"] - row["actionable"] - row["not_actionable"] for row in checks],
                ),
            ],
            y_label="alerts",
            stacked=True,
        ),
        "day_chart": charts.bar_chart(
            "Alerts per day",
            days,
            [
                charts.Series("In hours", [row["total"] - row["out_of_hours"] for row in data["by_day"]]),
                charts.Series("Out of hours", [row["out_of_hours"] for row in data["by_day"]]),
            ],
            y_label="alerts",
            x_label=f"day of the month ({zone})",
            stacked=True,
        ),
        "heatmap_chart": charts.heatmap(
            f"Out-of-hours pages by day and hour ({zone})",
            days,
            [f"{hour:02d}" for hour in range(24)],
            data["out_of_hours_heatmap"],
            value_label="out-of-hours pages",
        ),
    }


def _report_csv(data: dict, month, team) -> HttpResponse:
    name = f"alerts-{month:%Y-%m}{'-' + team.slug if team else ''}.csv"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = SafeWriter(response)
    columns = [
        "check",
        "total",
        "actionable",
        "not_actionable",
        "signal_to_noise",
        "out_of_hours",
        "top_category",
    ]
    # The page lists the first recommendations; the CSV names each check's.
    reasons: dict[str, list[str]] = defaultdict(list)
    for item in data["recommendations"]:
        reasons[item["check"]].append(item["reason"])
    writer.writerow([*columns, "recommendations"])
    for row in data["by_check"]:
        cells = ["" if row[column] is None else row[column] for column in columns]
        writer.writerow([*cells, " ".join(reasons[row["check"]])])
    return response


def _review_url(month: str, team: Team) -> str:
    return f"{reverse('alerts_review:report', kwargs={'month': month})}?team={team.slug}#review"


def _review_redirect(month: str, team: Team) -> HttpResponse:
    return redirect(_review_url(month, team))


@require_http_methods(["GET", "POST"])
def save_review(request: SignedInRequest, month: str) -> HttpResponse:
    first, zone, team = _report_arguments(request, month)
    if team is None:
        raise Http404("Choose a team to review.")
    if request.method == "POST":
        permissions.require(request.user, "review", team, kind="alerts")
    if request.method == "GET":
        return _review_redirect(month, team)
    form = ReviewForm(request.POST)
    if form.is_valid():
        services.record_review(team=team, month=first, notes=form.cleaned_data["notes"])
        messages.success(request, "The review notes are saved.")
        return _review_redirect(month, team)
    # Shown again on the report, as typed, with the sentence that refused it.
    data = _page_report(first, team, zone)
    return _report_page(request, data, first, zone, team, status=400, review_form=form)


@require_http_methods(["GET", "POST"])
def act(request: SignedInRequest, month: str) -> HttpResponse:
    first, zone, team = _report_arguments(request, month)
    if team is None:
        raise Http404("Choose a team to review.")
    if request.method == "POST":
        permissions.require(request.user, "review", team, kind="alerts")
    if request.method == "GET":
        # The address of a refused decision, opened again from history or the address bar.
        return _review_redirect(month, team)
    form = ActForm(request.POST)
    if form.is_valid():

        def write() -> str:
            action = services.act_on_recommendation(
                team=team, month=first, by=request.user, **form.cleaned_data
            )
            item = action.remediation
            assert item is not None  # acting on a recommendation always opens its remediation item
            messages.success(
                request,
                f"Recorded for {action.get_track_display()}: {action.summary} (a remediation item for "
                f"{item.owner.username}, due {item.due_date.day} {item.due_date:%b %Y}).",
            )
            return _review_url(month, team)

        try:
            return submit_once(request, write)
        except MorgueError as error:
            form.add_error(None, error.message)
    # Shown again on the report, beside its recommendation, as typed and with its sentence.
    data = _page_report(first, team, zone)
    return _report_page(request, data, first, zone, team, status=400, refused_act=form)


def paging_teams(request: SignedInRequest) -> HttpResponse:
    """Every team, to choose whose paging to see or change."""
    teams = Team.objects.order_by("name")
    return render(request, "alerts_review/paging_teams.html", {"teams": teams})


def team_paging(request: SignedInRequest, slug: str) -> HttpResponse:
    """A team's paging: its policy, its maintenance windows, its heartbeats (POST/redirect/GET)."""
    team = get_object_or_404(Team, slug=slug)
    policy = paging.policy_for(team)
    may_edit = permissions.allowed(request.user, "edit", team, kind="pagingpolicy")
    policy_form = PagingPolicyForm(
        initial={
            "rules": rules_as_lines(policy.rules),
            "grouping_window_minutes": policy.grouping_window_minutes,
        }
    )
    window_form = MaintenanceWindowForm()
    if request.method == "POST":
        form_name = request.POST.get("form")
        # The policy is one rule, the maintenance windows another (both a team manager's today).
        permissions.require(
            request.user, "edit", team, kind="pagingpolicy" if form_name == "policy" else "maintenancewindow"
        )
        if form_name == "policy":
            policy_form = PagingPolicyForm(request.POST)
            if policy_form.is_valid():
                paging.update_policy(team=team, **policy_form.cleaned_data)
                messages.success(request, f"{team.name}'s paging policy is saved.")
                return redirect("alerts_review:team-paging", team.slug)
        elif form_name == "window":
            window_form = MaintenanceWindowForm(request.POST)
            if window_form.is_valid():
                paging.create_maintenance_window(
                    team=team, created_by=request.user, **window_form.cleaned_data
                )
                messages.success(request, "The maintenance window is planned: its alerts will page nobody.")
                return redirect("alerts_review:team-paging", team.slug)
        elif form_name == "end":
            window = get_object_or_404(MaintenanceWindow, pk=request.POST.get("window", 0) or 0, team=team)
            paging.end_maintenance_window(window=window)
            messages.success(request, "The maintenance window is ended: its checks page again.")
            return redirect("alerts_review:team-paging", team.slug)
        else:
            return HttpResponse("Say which form: policy, window or end.", status=400)
    now = timezone.now()
    context = {
        "team": team,
        "policy": policy,
        "may_edit": may_edit,
        "policy_form": policy_form,
        "window_form": window_form,
        "current_windows": team.maintenance_windows.filter(ends_at__gt=now).select_related("created_by"),
        "past_windows": team.maintenance_windows.filter(ends_at__lte=now).select_related("created_by")[:10],
        "heartbeats": Heartbeat.objects.filter(alert_source__team=team).select_related(
            "alert_source", "page"
        ),
        "pages": Page.objects.filter(team=team, alerts__isnull=False)
        .distinct()
        .order_by("-created_at")
        .prefetch_related(Prefetch("alerts", queryset=Alert.objects.order_by("fired_at", "id")))[:10],
        "now": now,
    }
    return render(request, "alerts_review/team_paging.html", context)


# --- On-call import (staff) ----------------------------------------------------------------

ARCHIVE_LIMIT = 50 * 1024 * 1024


def _unpack(archive, into: Path) -> Path:
    """The saved answers of a zip, unpacked safely; ImportFailed with a sentence when it is not one."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if sum(member.file_size for member in members) > ARCHIVE_LIMIT:
                raise ImportFailed("The zip unpacks to more than 50 MB.")
            for member in members:
                target = (into / member.filename).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise ImportFailed(f"The zip's {member.filename} points outside it.")
            bundle.extractall(into)
    except zipfile.BadZipFile as error:
        raise ImportFailed("The file is not a zip.") from error
    entries = list(into.iterdir())
    # A zip of one folder: its answers are inside that folder.
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


# The last few runs' results live in the staff member's session, for the result page after the redirect.
IMPORT_RUNS_KEPT = 5
IMPORT_RUNS = "oncall_import_runs"


@require_http_methods(["GET", "POST"])
def import_oncall_page(request: SignedInRequest) -> HttpResponse:
    """Staff: plan, apply and verify an on-call import as `manage.py import_oncall` does; show it after."""
    permissions.require(request.user, "import", None, kind="oncall")
    form = OnCallImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        try:
            with tempfile.TemporaryDirectory(prefix="morgue-import-") as folder:
                directory = _unpack(data["archive"], Path(folder)) if data["archive"] else None
                reader = reader_for(data["source"], url=data["url"], token=data["token"], directory=directory)
                plan = read_plan(data["source"], reader, now=now, weeks=data["weeks"])
            blocking = [problem for problem in plan.problems if problem.blocks]
            result = import_oncall(plan=plan, now=now, save=data["apply"] and not blocking, check=True)
        except ImportFailed as error:
            form.add_error(None, f"{error} Nothing was imported.")
        else:
            run = secrets.token_hex(8)
            runs = dict(request.session.get(IMPORT_RUNS, {}))
            runs[run] = summarise(plan=plan, result=result, weeks=data["weeks"], at=now)
            request.session[IMPORT_RUNS] = dict(list(runs.items())[-IMPORT_RUNS_KEPT:])
            return redirect("alerts_review:import-oncall-result", run=run)
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts_review/import_oncall.html", {"form": form}, status=status)


@require_GET
def import_oncall_result(request: SignedInRequest, run: str) -> HttpResponse:
    """Staff: what an import run planned or did, and its verification (after the POST's redirect)."""
    permissions.require(request.user, "import", None, kind="oncall")
    summary = request.session.get(IMPORT_RUNS, {}).get(run)
    if summary is None:
        raise Http404("This import's result is no longer kept: run it again.")
    context = {"form": OnCallImportForm(initial={"weeks": summary["weeks"]}), "run": summary}
    return render(request, "alerts_review/import_oncall.html", context)
