"""An Atom feed of published postmortems, for feed readers (token in the URL, no login)."""

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed

from morgue.markdown import render_markdown
from morgue.models import Profile

from .models import Incident, Status

PUBLISHED = [Status.REVIEWED, Status.CLOSED]


class PublishedPostmortemsFeed(Feed):
    feed_type = Atom1Feed
    title = "Morgue: published postmortems"
    subtitle = "Postmortems that have been reviewed."
    link = "/incidents/"

    def get_object(self, request):
        # The person's own revocable feed token (shown on their profile), as for
        # calendar feeds; a bad or revoked token is a 404 that reveals nothing.
        if Profile.for_calendar_token(request.GET.get("token", "")) is None:
            raise Http404
        return None

    def items(self):
        return (
            Incident.objects.visible()
            .filter(status__in=PUBLISHED)
            .select_related("facilitator")
            .order_by("-updated_at", "-id")[:50]
        )

    def item_title(self, incident: Incident) -> str:
        return f"[sev {incident.severity}] {incident.title}"

    def item_description(self, incident: Incident) -> str:
        return str(render_markdown(incident.tldr or incident.what_happened))

    def item_link(self, incident: Incident) -> str:
        return incident.get_absolute_url()

    def item_pubdate(self, incident: Incident):
        return incident.updated_at

    def item_updateddate(self, incident: Incident):
        return incident.updated_at

    def item_author_name(self, incident: Incident) -> str | None:
        return incident.facilitator.get_username() if incident.facilitator else None
