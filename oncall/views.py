"""On-call pages: who is on call, rotation calendars, feeds, paging, fairness."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from morgue import permissions
from morgue.auth import SignedInRequest
from morgue.charts import Series, bar_chart
from morgue.exceptions import MorgueError
from morgue.models import Profile, Team
from morgue.once import show_once
from morgue.services import reset_calendar_token as reset_calendar_token_of
from morgue.submissions import submit_once
from morgue.validators import is_plausible

from . import feeds, selectors, services
from .exceptions import PageClosed
from .forms import OverrideForm, PageForm, ScheduleForm, SwapForm
from .models import Page, Rotation, Shift, Swap, SwapStatus


def now(request: SignedInRequest) -> HttpResponse:
    teams: dict = {}
    for row in selectors.on_call_now():
        teams.setdefault(row.team_name, []).append(row)
    context = {
        "open_pages": selectors.open_pages_for(user=request.user),
        "teams": teams,
        "mine": selectors.upcoming_shifts(user=request.user),
        "rotations": Rotation.objects.select_related("team").order_by("team__name", "name"),
        "swaps_for_me": Swap.objects.filter(taken_by=request.user, status=SwapStatus.ASKED).select_related(
            "rotation", "requested_by"
        ),
        "my_swaps": Swap.objects.filter(requested_by=request.user).select_related("rotation", "taken_by")[
            :10
        ],
    }
    return render(request, "oncall/now.html", context)


def _parse_date(value: str | None) -> dt.date | None:
    """A date from the query string; None when absent, malformed or in an implausible year."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if is_plausible(day) else None


def rotation(request: SignedInRequest, slug: str) -> HttpResponse:
    rotation = get_object_or_404(Rotation.objects.select_related("team"), slug=slug)
    if request.method == "POST":
        # Overriding oneself in, or asking someone to take one's shift: a responder's; the service
        # checks an override for someone else against the manager's rule.
        permissions.require(request.user, "override_self", rotation)
    asking = request.method == "POST" and "swap-taken_by" in request.POST
    form = OverrideForm(None if asking else request.POST or None)
    swap_form = SwapForm(request.POST if asking else None, prefix="swap")
    if asking and swap_form.is_valid():

        def ask() -> str:
            services.ask_swap(rotation=rotation, requested_by=request.user, **swap_form.cleaned_data)
            messages.success(request, f"{swap_form.cleaned_data['taken_by'].username} is asked to take it.")
            return request.path

        try:
            return submit_once(request, ask)
        except MorgueError as error:
            swap_form.add_error(error.field if error.field in swap_form.fields else None, error.message)
    if not asking and request.method == "POST" and form.is_valid():

        def override() -> str:
            services.create_override(rotation=rotation, created_by=request.user, **form.cleaned_data)
            messages.success(request, "The override is on the calendar.")
            start = timezone.localtime(form.cleaned_data["starts_at"], rotation.zone).date()
            return f"{request.path}?start={start.isoformat()}"

        try:
            return submit_once(request, override)
        except MorgueError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    start = _parse_date(request.GET.get("start")) or timezone.localtime(timezone.now(), rotation.zone).date()
    weeks = selectors.calendar_weeks(rotation=rotation, start=start)
    context = {
        "rotation": rotation,
        "may_edit": permissions.allowed(request.user, "edit", rotation),
        "weeks": weeks,
        "form": form,
        "swap_form": swap_form,
        "members": rotation.members.select_related("user__profile"),
        "previous": (start - dt.timedelta(days=28)).isoformat(),
        "next": (start + dt.timedelta(days=28)).isoformat(),
        "today": timezone.localtime(timezone.now(), rotation.zone).date(),
    }
    return render(request, "oncall/rotation.html", context)


SCHEDULE_FIELDS = (
    "shift_length_days",
    "shift_length_hours",
    "handoff_time",
    "restrictions",
    "advance",
    "layer",
)


def rotation_schedule(request: SignedInRequest, slug: str) -> HttpResponse:
    """A manager changes a rotation's schedule: Preview shows who gains and loses which shifts, Save saves."""
    rotation = get_object_or_404(Rotation.objects.select_related("team"), slug=slug)
    permissions.require(request.user, "edit", rotation)
    form = ScheduleForm.for_rotation(rotation, request.POST if request.method == "POST" else None)
    changes = None
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in SCHEDULE_FIELDS}
        members = form.cleaned_data["members"]
        specs = None if members is None else [services.MemberSpec(user) for user in members]
        try:
            if "save" in request.POST:
                services.update_rotation(rotation=rotation, members=specs, **fields)
                messages.success(
                    request, "Schedule saved; the people whose shifts changed are told by email."
                )
                return redirect("oncall:rotation", slug=rotation.slug)
            changes = services.preview_rotation_change(rotation=rotation, members=specs, **fields)
        except MorgueError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(
        request, "oncall/rotation_schedule.html", {"rotation": rotation, "form": form, "changes": changes}
    )


def _profile_for_token(token: str | None) -> Profile:
    # One answer for a missing, wrong or revoked token: the feed is not there.
    profile = Profile.for_calendar_token(token)
    if profile is None:
        raise Http404
    return profile


def _ics(request: HttpRequest, body: bytes, filename: str) -> HttpResponse:
    """The feed, or 304 Not Modified when the calendar app already holds the same shifts."""
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=900"
    response["ETag"] = feeds.etag(body)
    # Calendar apps poll every few minutes; a 304 spares them the whole feed.
    return get_conditional_response(request, etag=response["ETag"], response=response) or response


@login_not_required
@require_safe
def rotation_feed(request: HttpRequest, slug: str) -> HttpResponse:
    _profile_for_token(request.GET.get("token"))
    rotation = get_object_or_404(Rotation.objects.select_related("team"), slug=slug)
    at = timezone.now()
    shifts = Shift.objects.filter(rotation=rotation).overlapping(at - feeds.BACK, at + feeds.AHEAD)
    shifts = shifts.select_related("rotation__team", "user__profile").order_by("starts_at", "level")
    body = feeds.calendar(name=f"On call: {rotation.name}", shifts=shifts, now=at)
    return _ics(request, body, f"{rotation.slug}.ics")


@login_not_required
@require_safe
def person_feed(request: HttpRequest, username: str) -> HttpResponse:
    _profile_for_token(request.GET.get("token"))
    person = get_user_model().objects.filter(username=username, is_active=True).first()
    if person is None:
        raise Http404
    at = timezone.now()
    shifts = Shift.objects.filter(user=person).overlapping(at - feeds.BACK, at + feeds.AHEAD)
    shifts = shifts.select_related("rotation__team", "user__profile").order_by("starts_at", "level")
    body = feeds.calendar(name=f"On call: {username}", shifts=shifts, now=at)
    return _ics(request, body, f"{username}.ics")


def page_directory(request: SignedInRequest) -> HttpResponse:
    form = PageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():

        def page_team() -> str:
            page = services.page_team(created_by=request.user, **form.cleaned_data)
            messages.success(request, f"{page.team} is paged.")
            return reverse("oncall:page-detail", args=[page.pk])

        # A double click must not wake people twice.
        return submit_once(request, page_team)
    teams = list(Team.objects.pageable())
    on_call: dict[str, list[selectors.OnCallRow]] = {}
    for row in selectors.on_call_now():
        on_call.setdefault(row.team, []).append(row)
    context = {
        "form": form,
        "teams": [(team, on_call.get(team.slug, [])) for team in teams],
        "recent": Page.objects.select_related("team", "created_by").order_by("-created_at")[:10],
    }
    return render(request, "oncall/page.html", context)


def page_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    page = get_object_or_404(
        Page.objects.select_related("team", "created_by", "acknowledged_by", "incident"), pk=pk
    )
    if request.method == "POST":
        if request.POST.get("action") == "resolve":
            permissions.require(request.user, "resolve", page)
            services.resolve_page(page=page)
            messages.success(request, "Resolved: escalation stopped and the people notified are told.")
        else:
            silence = request.POST.get("silence") == "on"
            try:
                services.acknowledge_page(page=page, user=request.user, silence=silence)
            except PageClosed as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    "Acknowledged: escalation stopped"
                    + (", its alerts are silenced in Alertmanager until they resolve." if silence else "."),
                )
        return redirect("oncall:page-detail", page.pk)
    steps = page.steps.select_related("team", "user")
    # Alerts (alerts_review's, reached by their relation) from a source with an Alertmanager URL.
    can_silence = page.alerts.filter(alert_source__alertmanager_url__gt="").exists()
    context = {
        "page": page,
        "steps": steps,
        "notifications": selectors.page_notifications(page=page),
        "can_silence": can_silence,
    }
    return render(request, "oncall/page_detail.html", context)


def fairness(request: SignedInRequest) -> HttpResponse:
    rotations = list(Rotation.objects.select_related("team").order_by("team__name", "name"))
    if not rotations:
        return render(request, "oncall/fairness.html", {"rotations": []})
    chosen = next((item for item in rotations if item.slug == request.GET.get("rotation")), rotations[0])
    today = timezone.localdate()
    since = _parse_date(request.GET.get("since")) or today - dt.timedelta(days=90)
    until = _parse_date(request.GET.get("until")) or today
    if until <= since:
        until = since + dt.timedelta(days=1)
    zone = timezone.get_current_timezone()
    rows = selectors.fairness(
        rotation=chosen,
        since=dt.datetime.combine(since, dt.time(0), zone),
        until=dt.datetime.combine(until, dt.time(0), zone),
    )
    chart = None
    if rows:
        chart = bar_chart(
            f"Hours on call per person, {chosen.name}, {since} to {until}",
            [row.username for row in rows],
            [
                Series("All hours", [round(row.hours, 1) for row in rows]),
                Series("Weekend hours", [round(row.weekend_hours, 1) for row in rows]),
                Series("Night hours", [round(row.night_hours, 1) for row in rows]),
            ],
            y_label="hours",
            x_label="person",
        )
    context = {
        "rotations": rotations,
        "rotation": chosen,
        "rows": rows,
        "since": since,
        "until": until,
        "chart": chart,
    }
    return render(request, "oncall/fairness.html", context)


def answer_swap(request: SignedInRequest, pk: int, answer: str) -> HttpResponse:
    # Only the person asked sees the swap to answer it (as in the API, someone else's is a 404).
    swap = get_object_or_404(Swap, pk=pk, taken_by=request.user)
    if request.method == "POST":
        try:
            services.answer_swap(swap=swap, user=request.user, accept=answer == "accept")
        except MorgueError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, "Accepted: it is an override now." if answer == "accept" else "Declined."
            )
    return redirect("oncall:now")


def withdraw_swap(request: SignedInRequest, pk: int) -> HttpResponse:
    swap = get_object_or_404(Swap, pk=pk, requested_by=request.user)
    if request.method == "POST":
        try:
            services.withdraw_swap(swap=swap, user=request.user)
        except MorgueError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Withdrawn: {swap.taken_by.username} is no longer asked.")
    return redirect("oncall:now")


def reset_calendar_token(request: SignedInRequest) -> HttpResponse:
    """Revoke the person's feed address and give them a new one, shown once on the profile page."""
    if request.method == "POST":
        token = reset_calendar_token_of(profile=Profile.objects.for_user(request.user))
        show_once(request, feeds.CALENDAR_TOKEN_SHOWN, token)
        messages.success(request, "Your calendar address is new; any old one no longer works.")
    return redirect(f"{reverse('profile')}#calendar")
