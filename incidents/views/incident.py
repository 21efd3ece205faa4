"""Incident pages: list and search, create, the incident page, the editor, history, review scheduling."""

import datetime as dt
from collections.abc import Iterable, Mapping

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.exceptions import StaleVersion
from incidents.forms import (
    ConflictChoicesForm,
    IncidentFilterForm,
    IncidentForm,
    ReviewForm,
    TimelineEventForm,
    add_refusal,
)
from incidents.forms_running import RoleForm, StatusUpdateForm
from incidents.models import POSTMORTEM_FIELDS, Incident, ReviewMeeting, Revision
from incidents.selectors import incident as selectors
from incidents.selectors import running
from incidents.selectors.evidence import evidence_panel
from incidents.selectors.remediation import incident_panel
from incidents.services import incident as services
from incidents.services import review as review_services
from incidents.services.running import public_url
from morgue import permissions
from morgue.auth import SignedInRequest
from morgue.exceptions import MorgueError
from morgue.markdown import render_markdown
from morgue.models import Profile, Team, display_name
from morgue.paging import CountedPaginator
from morgue.permissions import requires
from morgue.submissions import submit_once

PAGE_SIZE = 50


def _local_day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def incident_list(request: SignedInRequest) -> HttpResponse:
    may_see_deleted = permissions.allowed(request.user, "view_deleted", None, kind="incident")
    teams = list(Team.objects.order_by("name"))
    form = IncidentFilterForm(request.GET or None, teams=teams)
    filters = selectors.IncidentFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        before = data["started_before"]
        filters = selectors.IncidentFilters(
            search=data["search"],
            status=data["status"],
            severity=data["severity"],
            team=data["team"],
            tag=data["tag"],
            started_after=_local_day_start(data["started_after"]),
            started_before=_local_day_start(before),
            oldest_first=data["sort"] == "oldest",
            deleted=data["deleted"] and may_see_deleted,
        )
    paginator = CountedPaginator(
        selectors.incident_list(filters=filters), PAGE_SIZE, count=selectors.count_incidents(filters=filters)
    )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "may_see_deleted": may_see_deleted,
            "history": selectors.today_in_history(today=timezone.localdate()),
        },
    )


def _status(request: SignedInRequest, form) -> int:
    """400 for a refused submission (the page still shows the form with each field's sentence)."""
    return 400 if request.method == "POST" and form.errors else 200


def incident_create(request: SignedInRequest) -> HttpResponse:
    permissions.require(request.user, "declare", None, kind="incident")
    form = IncidentForm(request.POST or None, initial={"status": "open", "severity": 3})
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        permissions.require(request.user, "declare", changes.get("team"), kind="incident")

        def write() -> str:
            incident = services.create_incident(by=request.user, **changes)
            messages.success(request, "Incident created. Add to its timeline and write its postmortem.")
            return incident.get_absolute_url()

        try:
            return submit_once(request, write)
        except (ValidationError, MorgueError) as error:
            add_refusal(form, error)
    return render(
        request, "incidents/form.html", {"form": form, "creating": True}, status=_status(request, form)
    )


def _incident_or_404(request: SignedInRequest, pk: int) -> Incident:
    try:
        return selectors.incident_for_page(pk=pk, user=request.user)
    except Incident.DoesNotExist:
        raise Http404("No such incident.") from None


def incident_detail(request: SignedInRequest, pk: int) -> HttpResponse:
    return detail_page(request, _incident_or_404(request, pk))


def detail_page(
    request: SignedInRequest, incident: Incident, *, status: int = 200, **refused
) -> HttpResponse:
    """The incident page; `refused` holds a refused form of it, shown again as typed with its errors."""
    events = list(incident.events.select_related("author__profile"))
    zone = timezone.get_current_timezone()
    sections = [
        {"name": name, "label": label, "prompt": prompt, "html": render_markdown(getattr(incident, name))}
        for name, label, prompt in running.postmortem_sections(incident=incident)
    ]
    review = ReviewMeeting.objects.filter(incident=incident).prefetch_related("attendees__profile").first()
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            # What the person may do here (morgue.permissions): the page offers only that.
            "may_edit": permissions.allowed(request.user, "edit", incident),
            "may_delete": permissions.allowed(request.user, "delete", incident),
            "events": events,
            "timeline_svg": selectors.timeline_picture(incident=incident, events=events, zone=zone),
            "milestones": selectors.milestone_rows(incident=incident),
            "multi_day": incident.is_multi_day,
            "sections": sections,
            "findings": selectors.postmortem_findings(incident=incident),
            "review": review,
            "editing": selectors.others_editing(incident=incident, user=request.user),
            "event_form": TimelineEventForm(initial={"occurred_at": timezone.localtime().replace(second=0)}),
            "evidence": evidence_panel(incident=incident),
            "remediation_panel": incident_panel(incident=incident, today=timezone.localdate()),
            # Shown at a form's own address after a refusal, the page's other forms
            # still go back to the incident page once saved.
            "back_url": incident.get_absolute_url(),
            # Running it: roles, status updates, followers, the public page.
            "roles": running.roles_panel(incident=incident),
            "role_form": RoleForm(),
            "role_people": running.role_people(incident=incident),
            "updates": running.status_updates(incident=incident),
            "update_form": StatusUpdateForm(),
            "subscribed": running.is_subscribed(incident=incident, user=request.user),
            "subscribed_teams": running.subscribed_teams(incident=incident),
            "public_url": public_url(incident),
            "chat_channel": running.chat_channel(incident=incident),
            "pages": list(incident.pages.select_related("team").order_by("created_at")),
            **refused,
        },
        status=status,
    )


def _shown(form: IncidentForm, name: str, value: object) -> str:
    """A field's value as the conflict screen shows it: names, labels and local times, not ids."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, User):
        return display_name(value)
    field = form.fields[name]
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        # Flat choices (severity, status, problem and impact types); the stubs allow any kind.
        options: Iterable[tuple[object, str]] = field.choices  # type: ignore[assignment]
        return str({str(key): label for key, label in options}.get(str(value), value))
    return str(value)


def _saved_value(incident: Incident, name: str) -> object:
    if name == "tags":
        return sorted(tag.name for tag in incident.tags.all())
    return getattr(incident, name)


def _conflict(
    *, form: IncidentForm, current: Incident, yours: Mapping, choices: ConflictChoicesForm, version: object
) -> dict:
    """The conflict screen's data: who saved, and each field both changed, theirs beside mine."""
    sections = set(POSTMORTEM_FIELDS)
    fields = []
    for name in choices.fields:
        text = name in sections
        theirs = _saved_value(current, name)
        fields.append(
            {
                "name": name,
                "label": services.FIELD_LABELS.get(name, name),
                "text": text,
                "theirs": theirs if text else _shown(form, name, theirs),
                "yours": yours.get(name, "") if text else _shown(form, name, yours.get(name)),
                "choice": choices[name],
            }
        )
    return {
        "version": version,
        "author": current.revisions.select_related("author__profile").first(),
        "fields": fields,
    }


def _conflict_screen(
    *, form: IncidentForm, current: Incident, names: list[str], kept_mine: list[str], version: int
) -> tuple[IncidentForm, dict]:
    """The editor again, merged: their changes taken, mine kept, each conflict shown side by side.

    The new form is based on the current version, so saving it cannot revert
    anything the other save changed unless the person chooses so.
    """
    mine = form.cleaned_data
    initial = IncidentForm.initial_for(current)
    for name in [*names, *kept_mine]:
        if name in mine:
            initial[name] = ", ".join(mine[name]) if name == "tags" else mine[name]
    initial["version"] = version
    choices = ConflictChoicesForm(names=names, labels=services.FIELD_LABELS)
    conflict = _conflict(form=form, current=current, yours=mine, choices=choices, version=version)
    return IncidentForm(initial=initial), conflict


@requires("edit", Incident, methods=None)
def incident_edit(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if incident.is_deleted:
        raise Http404("No such incident.")
    services.mark_editing(incident=incident, user=request.user)
    conflict = None
    if request.method == "POST":
        # The initial values tell which fields the person changed (IncidentForm.changes).
        form = IncidentForm(request.POST, initial=IncidentForm.initial_for(incident))
        # The fields a conflict screen asked the person to settle (keep theirs / mine / both).
        settled = [
            name for name in dict.fromkeys(request.POST.getlist("conflict")) if name in services.FIELD_LABELS
        ]
        choices = ConflictChoicesForm(request.POST, names=settled, labels=services.FIELD_LABELS)
        if form.is_valid() and choices.is_valid():
            version = form.cleaned_data["version"] or 0
            try:
                services.update_incident(
                    incident=incident,
                    by=request.user,
                    version=version,
                    changes=form.changes(),
                    choices=choices.choices(),
                )
            except StaleVersion as error:
                # Nothing was saved. Show the merged form: the other save's changes
                # taken, every word this person typed kept, conflicts side by side.
                current = selectors.incident_for_page(pk=pk, user=request.user)
                form, conflict = _conflict_screen(
                    form=form,
                    current=current,
                    names=error.conflicts,
                    kept_mine=error.kept_mine,
                    version=error.current_version,
                )
            except (ValidationError, MorgueError) as error:
                add_refusal(form, error)
            else:
                merged = (
                    " Changes saved meanwhile by someone else are kept."
                    if version != incident.version
                    else ""
                )
                messages.success(request, f"Saved.{merged}")
                return redirect(incident)
        if conflict is None and settled:
            # The settling form was refused (a field's error, an unknown choice):
            # keep the conflicts on screen so the next save still settles them.
            if not choices.is_valid():
                form.add_error(None, "Choose, for each conflicting field, whose text to keep.")
            conflict = _conflict(
                form=form,
                current=incident,
                yours=form.data,
                choices=choices,
                version=form.data.get("version"),
            )
    else:
        form = IncidentForm(initial=IncidentForm.initial_for(incident))
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "conflict": conflict,
            "editing": selectors.others_editing(incident=incident, user=request.user),
        },
        status=_status(request, form) if form.errors or not conflict else 409,
    )


@require_POST
@requires("edit", Incident)
def incident_editing(request: SignedInRequest, pk: int) -> JsonResponse:
    """The editor's heartbeat: keeps this person's presence fresh, answers who else is editing."""
    incident = _incident_or_404(request, pk)
    services.mark_editing(incident=incident, user=request.user)
    current = Incident.objects.filter(pk=pk).values_list("version", flat=True).first()
    return JsonResponse(
        {"editing": selectors.others_editing(incident=incident, user=request.user), "version": current}
    )


@require_http_methods(["GET", "POST"])
@requires("edit", Incident)
def timeline_add(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        # The address of a refused event, opened again from history or the address bar.
        return redirect(f"{incident.get_absolute_url()}#timeline")
    form = TimelineEventForm(request.POST)
    if form.is_valid():

        def write() -> str:
            services.add_timeline_event(incident=incident, by=request.user, **form.cleaned_data)
            messages.success(request, "Event added to the timeline.")
            return f"{incident.get_absolute_url()}#timeline"

        try:
            return submit_once(request, write)
        except (ValidationError, MorgueError) as error:
            add_refusal(form, error)
    return detail_page(request, incident, status=400, event_form=form)


def incident_history(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    revisions = list(incident.revisions.select_related("author__profile"))
    by_number = {revision.number: revision for revision in revisions}
    diff, older, newer = [], None, None
    if len(revisions) >= 2:
        try:
            newer = by_number.get(int(request.GET.get("newer", revisions[0].number)), revisions[0])
            older = by_number.get(int(request.GET.get("older", revisions[1].number)), revisions[1])
        except ValueError:
            newer, older = revisions[0], revisions[1]
        diff = selectors.revision_diff(older=older, newer=newer)
    return render(
        request,
        "incidents/history.html",
        {"incident": incident, "revisions": revisions, "diff": diff, "older": older, "newer": newer},
    )


@require_POST
@requires("edit", Incident)
def revision_restore(request: SignedInRequest, pk: int, number: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    revision = get_object_or_404(Revision, incident=incident, number=number)
    try:
        services.restore_revision(incident=incident, revision=revision, by=request.user)
    except (ValidationError, MorgueError) as error:
        messages.error(request, error.message if isinstance(error, MorgueError) else " ".join(error.messages))
        return redirect("incidents:history", pk=pk)
    messages.success(request, f"Revision {number} restored as a new revision.")
    return redirect(incident)


@requires("edit", Incident, methods=None)
def review_schedule(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    meeting = ReviewMeeting.objects.filter(incident=incident).first()
    facilitator = incident.facilitator or request.user
    if meeting:
        initial = {
            "facilitator": meeting.facilitator.username,
            "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes,
            "location": meeting.location,
            "attendees": [person.username for person in meeting.attendees.all()],
        }
        suggestion = None
    else:
        suggestion = selectors.suggested_review_slot(incident=incident, facilitator=facilitator)
        initial = {"facilitator": facilitator.username, "starts_at": suggestion, "duration_minutes": 60}
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> str:
            with transaction.atomic():
                meeting = review_services.schedule_review(
                    incident=incident,
                    facilitator=data["facilitator"],
                    starts_at=data["starts_at"],
                    duration_minutes=data["duration_minutes"],
                    location=data["location"],
                    attendees=data["attendees"],
                    by=request.user,
                )
                if data["send_invitation"]:
                    review_services.request_invitation(meeting=meeting)
            sent = " The invitation is on its way to the attendees." if data["send_invitation"] else ""
            messages.success(request, f"Review scheduled.{sent}")
            return incident.get_absolute_url()

        try:
            # Sent twice, the form would send the invitation twice: once per token.
            return submit_once(request, write)
        except (ValidationError, MorgueError) as error:
            add_refusal(form, error)
    facilitator_zone = Profile.objects.for_user(facilitator).time_zone
    return render(
        request,
        "incidents/review.html",
        {
            "incident": incident,
            "form": form,
            "meeting": meeting,
            "suggestion": suggestion,
            "facilitator_zone": facilitator_zone,
        },
        status=_status(request, form),
    )


@require_POST
@requires("edit", Incident)
def review_invite(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    meeting = get_object_or_404(ReviewMeeting, incident=incident)

    def write() -> str:
        review_services.request_invitation(meeting=meeting)
        messages.success(request, "The invitation is on its way to the attendees.")
        return incident.get_absolute_url()

    # A double click sends the invitation once.
    return submit_once(request, write)


@require_POST
@requires("edit", Incident)
def review_unschedule(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    try:
        review_services.unschedule_review(incident=incident, by=request.user)
    except MorgueError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Review unscheduled. Everyone invited is sent a cancellation.")
    return redirect(incident)


def review_ics(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    meeting = get_object_or_404(
        ReviewMeeting.objects.select_related("incident", "facilitator"), incident=incident
    )
    response = HttpResponse(
        review_services.invitation_ics(meeting=meeting),
        content_type="text/calendar; method=REQUEST; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="incident-{incident.pk}-review.ics"'
    return response


@require_http_methods(["GET", "POST"])
def incident_delete(request: SignedInRequest, pk: int) -> HttpResponse:
    """Ask first (GET: a page naming the incident), then delete softly (POST) and offer Undo."""
    incident = _incident_or_404(request, pk)
    permissions.require(request.user, "delete", incident)
    if request.method == "GET":
        if incident.is_deleted:
            return redirect("incidents:deleted", pk=incident.pk)
        review = ReviewMeeting.objects.filter(incident=incident).first()
        return render(request, "incidents/delete.html", {"incident": incident, "review": review})
    # Deleting a deleted incident changes nothing: a second click lands on the same page.
    services.delete_incident(incident=incident, by=request.user)
    return redirect("incidents:deleted", pk=incident.pk)


@require_GET
def incident_deleted(request: SignedInRequest, pk: int) -> HttpResponse:
    """What a delete leads to: the incident named, and Undo."""
    incident = _incident_or_404(request, pk)
    if not incident.is_deleted:
        return redirect(incident)
    return render(request, "incidents/deleted.html", {"incident": incident})


@require_POST
def incident_restore(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    # The service refuses anyone but an admin (a 403 naming who may); others never see a deleted incident.
    services.restore_incident(incident=incident, by=request.user)
    messages.success(request, f"“{incident.title}” is restored: it is back on the lists and in the metrics.")
    return redirect(incident)


def review_queue(request: SignedInRequest) -> HttpResponse:
    pages = {name: request.GET.get(f"{name}_page") for name in selectors.REVIEW_QUEUE_LISTS}
    queue = selectors.review_queue(pages=pages)
    links = {}
    for name in selectors.REVIEW_QUEUE_LISTS:
        page = queue[name]
        links[name] = {
            "previous": _page_link(request, name, page.previous_page_number()) if page.has_previous() else "",
            "next": _page_link(request, name, page.next_page_number()) if page.has_next() else "",
        }
    return render(request, "incidents/review_queue.html", {**queue, "links": links})


def _page_link(request: SignedInRequest, name: str, number: int) -> str:
    """This page's address with one list turned to page `number`, the other lists where they were."""
    query = request.GET.copy()
    query[f"{name}_page"] = str(number)
    return f"?{query.urlencode()}"
