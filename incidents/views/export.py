from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from morgue.models import Profile

from ..exports import postmortem_markdown
from ..models import Incident


def postmortem_markdown_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the postmortem as a Markdown file, times on the reader's clock."""
    incident = get_object_or_404(
        Incident.objects.visible().select_related("team", "facilitator").prefetch_related("tags"), pk=pk
    )
    zone = Profile.objects.for_user(request.user).zone
    response = HttpResponse(
        postmortem_markdown(incident, zone=zone), content_type="text/markdown; charset=utf-8"
    )
    filename = f"postmortem-{incident.pk}-{slugify(incident.title)[:60] or 'incident'}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
