"""Trackers: their webhooks (an issue closed or reopened) and the "create issue" button of an item.

A webhook is answered in JSON with a sentence: 401 (403 when no secret is
configured) for a delivery without the tracker's proof, 400 for a body that is
not JSON, and 200 for anything verified, applied or not, so the tracker does not
retry a delivery about an issue Morgue does not follow.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from incidents import trackers
from incidents.exceptions import TrackerNotConfigured
from incidents.models import RemediationItem, TrackerKind
from incidents.services import tracker_status
from incidents.services import trackers as services
from morgue.auth import SignedInRequest
from morgue.permissions import requires

from .remediation import _next_url


def _webhook(request: HttpRequest, kind: str) -> HttpResponse:
    body = request.body
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        trackers.verify(kind, secret=tracker_status.webhook_secret(kind), body=body, headers=headers)
        event = trackers.parse_event(kind, body=body, headers=headers)
    except trackers.WebhookRefused as error:
        return JsonResponse({"detail": error.message}, status=error.status)
    if event is None:
        return JsonResponse(
            {"detail": "Ignored: this delivery is not about an issue opening, closing or reopening."}
        )
    return JsonResponse({"detail": tracker_status.apply_event(kind=kind, event=event)})


@login_not_required
@csrf_exempt  # signed by GitHub instead (X-Hub-Signature-256)
@require_POST
def github_webhook(request: HttpRequest) -> HttpResponse:
    return _webhook(request, TrackerKind.GITHUB)


@login_not_required
@csrf_exempt  # GitLab's secret token instead (X-Gitlab-Token)
@require_POST
def gitlab_webhook(request: HttpRequest) -> HttpResponse:
    return _webhook(request, TrackerKind.GITLAB)


@login_not_required
@csrf_exempt  # signed by Jira instead (X-Hub-Signature)
@require_POST
def jira_webhook(request: HttpRequest) -> HttpResponse:
    return _webhook(request, TrackerKind.JIRA)


@require_http_methods(["GET", "POST"])
@requires("edit", RemediationItem, "item_id")
def create_issue(request: SignedInRequest, item_id: int) -> HttpResponse:
    """The item's "Create issue in tracker" button: for whoever may change the item (its edit rule)."""
    item = get_object_or_404(RemediationItem.objects.visible().select_related("team"), pk=item_id)
    back = (
        reverse("incidents:remediation-incident", args=[item.incident_id])
        if item.incident_id
        else item.get_absolute_url()
    )
    if request.method == "GET":
        return redirect(back)
    try:
        issue = services.request_issue(item=item, requested_by=request.user)
    except (TrackerNotConfigured, ValidationError) as error:
        text = error.message if isinstance(error, TrackerNotConfigured) else " ".join(error.messages)
        messages.error(request, text)
    else:
        if issue.is_linked:
            messages.info(
                request, f"“{item.title}” already has {issue.get_kind_display()} issue {issue.key}."
            )
        else:
            messages.success(
                request,
                f"Creating an issue in {issue.get_kind_display()} ({issue.project}) for “{item.title}”.",
            )
    target = _next_url(request, back)
    return redirect(target if "#" in target else f"{target}#remediation-{item.pk}")
