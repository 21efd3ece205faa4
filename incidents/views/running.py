"""Pages for running an incident: declare, roles, status updates, following, the public page, the feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_http_methods

from incidents.forms import add_refusal
from incidents.forms_running import DeclareForm, RoleForm, StatusUpdateForm
from incidents.models import Incident, StatusUpdate, TimelineEvent
from incidents.selectors import running as selectors
from incidents.services import running as services
from morgue import permissions
from morgue.auth import SignedInRequest
from morgue.exceptions import MorgueError
from morgue.markdown import render_markdown
from morgue.permissions import requires
from morgue.submissions import submit_once
from oncall.models import Page

from .incident import _incident_or_404, detail_page


@require_http_methods(["GET", "POST"])
def declare(request: SignedInRequest) -> HttpResponse:
    """The declare form of the home page and of a page's detail: a refusal shows the form on its own."""
    permissions.require(request.user, "declare", None, kind="incident")
    if request.method == "GET":
        return render(request, "incidents/declare.html", {"form": DeclareForm()})
    form = DeclareForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        page = Page.objects.filter(pk=data["page"]).select_related("team").first() if data["page"] else None
        permissions.require(request.user, "declare", data["team"], kind="incident")

        def write() -> str:
            incident = services.declare_incident(
                by=request.user,
                title=data["title"],
                severity=data["severity"],
                team=data["team"],
                page=page,
                page_the_team=data["page_the_team"],
            )
            messages.success(
                request, "Incident declared. You lead it: assign roles and post a status update."
            )
            return incident.get_absolute_url()

        try:
            return submit_once(request, write)
        except (ValidationError, MorgueError) as error:
            add_refusal(form, error)
    return render(request, "incidents/declare.html", {"form": form}, status=400)


@require_http_methods(["GET", "POST"])
@requires("edit", Incident)
def role_assign(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        # The address of a refused form, opened again from history or the address bar.
        return redirect(f"{incident.get_absolute_url()}#roles")
    form = RoleForm(request.POST)
    if form.is_valid():
        role, person = form.cleaned_data["role"], form.cleaned_data["user"]
        if request.POST.get("action") == "release":
            services.release_role(incident=incident, role=role, by=request.user)
            messages.success(request, f"Nobody is {role.name.lower()} now.")
        else:
            services.assign_role(incident=incident, role=role, user=person, by=request.user)
            messages.success(request, f"{role.name}: {person.get_username()}.")
        return redirect(f"{incident.get_absolute_url()}#roles")
    return detail_page(request, incident, status=400, role_form=form)


@require_http_methods(["GET", "POST"])
@requires("edit", Incident)
def status_update_post(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        # The address of a refused form, opened again from history or the address bar.
        return redirect(f"{incident.get_absolute_url()}#status-updates")
    form = StatusUpdateForm(request.POST)
    if form.is_valid():

        def write() -> str:
            services.post_status_update(incident=incident, by=request.user, **form.cleaned_data)
            messages.success(request, "Status update posted; the subscribers are being told.")
            return f"{incident.get_absolute_url()}#status-updates"

        try:
            return submit_once(request, write)
        except (ValidationError, MorgueError) as error:
            add_refusal(form, error)
    return detail_page(request, incident, status=400, update_form=form)


@require_http_methods(["GET", "POST"])
def subscription(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        # The address of a refused form, opened again from history or the address bar.
        return redirect(f"{incident.get_absolute_url()}#status-updates")
    if request.POST.get("action") == "unsubscribe":
        services.unsubscribe(incident=incident, user=request.user)
        messages.success(request, "You no longer follow this incident.")
    else:
        services.subscribe(incident=incident, user=request.user)
        messages.success(request, "You follow this incident: its status updates come to you.")
    return redirect(f"{incident.get_absolute_url()}#status-updates")


@require_http_methods(["GET", "POST"])
@requires("edit", Incident)
def public_toggle(request: SignedInRequest, pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        # The address of a refused form, opened again from history or the address bar.
        return redirect(f"{incident.get_absolute_url()}#public")
    public = request.POST.get("public") == "on"
    postmortem = request.POST.get("postmortem") == "on"
    try:
        services.set_public(incident=incident, by=request.user, public=public, postmortem=postmortem)
    except MorgueError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The public page is shown." if public else "The public page is hidden.")
    return redirect(f"{incident.get_absolute_url()}#public")


@require_http_methods(["GET", "POST"])
@requires("edit", Incident)
def event_star(request: SignedInRequest, pk: int, event_pk: int) -> HttpResponse:
    incident = _incident_or_404(request, pk)
    if request.method == "GET":
        return redirect(f"{incident.get_absolute_url()}#timeline")
    event = get_object_or_404(TimelineEvent, pk=event_pk, incident=incident)
    services.star_event(event=event, starred=request.POST.get("starred") == "1")
    return redirect(f"{incident.get_absolute_url()}#timeline")


def _public_incident(token: str) -> Incident:
    incident = (
        Incident.objects.visible().filter(public_token=token, is_public=True).select_related("team").first()
    )
    if incident is None or not token:
        raise Http404
    return incident


@login_not_required
def public_page(request: HttpRequest, token: str) -> HttpResponse:
    """The read-only page for customers: times, status updates, the postmortem once published."""
    incident = _public_incident(token)
    sections = []
    if incident.public_postmortem and incident.status in services.PUBLISHED:
        sections = [
            {"label": label, "html": render_markdown(getattr(incident, name))}
            for name, label, _ in selectors.postmortem_sections(incident=incident)
            if getattr(incident, name)
        ]
    response = render(
        request,
        "incidents/public.html",
        {"incident": incident, "updates": selectors.status_updates(incident=incident), "sections": sections},
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


class StatusUpdatesFeed(Feed):
    """An incident's status updates as Atom, at its public address (only while the page is public)."""

    feed_type = Atom1Feed

    def get_object(self, request, token: str) -> Incident:
        return _public_incident(token)

    def title(self, incident: Incident) -> str:
        return f"{incident.title}: status updates"

    def link(self, incident: Incident) -> str:
        return services.public_url(incident)

    def items(self, incident: Incident) -> list[StatusUpdate]:
        return selectors.status_updates(incident=incident)[:50]

    def item_title(self, update: StatusUpdate) -> str:
        return f"Update {update.posted_at:%Y-%m-%d %H:%M} UTC"

    def item_description(self, update: StatusUpdate) -> str:
        nxt = f" Next update by {update.next_update_at:%Y-%m-%d %H:%M} UTC." if update.next_update_at else ""
        return f"Affected: {update.affected}\nWhat we are doing: {update.doing}.{nxt}"

    def item_link(self, update: StatusUpdate) -> str:
        return f"{services.public_url(update.incident)}#update-{update.pk}"

    def item_pubdate(self, update: StatusUpdate):
        return update.posted_at

    def item_updateddate(self, update: StatusUpdate):
        return update.posted_at
