from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

# --- Incidents and postmortems ---------------------------------------------------
from incidents.models import BlamelessPhrase, Incident, ReviewMeeting, Revision, Tag, TimelineEvent


class TimelineEventInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    fields = ["occurred_at", "kind", "text", "link", "author", "speaker"]
    raw_id_fields = ["author"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "severity", "status", "team", "impact_started_at", "facilitator", "deleted_at"]
    list_filter = ["status", "severity", "team", "deleted_at"]
    search_fields = ["title"]
    raw_id_fields = ["contact", "facilitator", "created_by"]
    readonly_fields = ["version", "created_at", "updated_at"]
    exclude = ["search_vector"]
    inlines = [TimelineEventInline]
    date_hierarchy = "impact_started_at"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(BlamelessPhrase)
class BlamelessPhraseAdmin(admin.ModelAdmin):
    """The team's own additions to the blameless-language check (merged with the built-in list)."""

    list_display = ["text", "reason", "suggestion", "active"]
    list_editable = ["active"]
    search_fields = ["text", "reason"]


@admin.register(ReviewMeeting)
class ReviewMeetingAdmin(admin.ModelAdmin):
    list_display = ["incident", "facilitator", "starts_at", "sequence", "invitation_sent_at"]
    raw_id_fields = ["incident", "facilitator"]
    filter_horizontal = ["attendees"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["incident", "number", "author", "created_at"]
    raw_id_fields = ["incident", "author"]
    readonly_fields = ["incident", "number", "author", "created_at", "changed_fields", "snapshot", "note"]


# --- Evidence: deploys and graph snapshots -------------------------------------
from .models import Deploy, DeployLink, GraphSnapshot  # noqa: E402


@admin.register(Deploy)
class DeployAdmin(admin.ModelAdmin):
    list_display = ["stack", "environment", "started_at", "deployer", "old_revision", "new_revision"]
    list_filter = ["environment", "stack"]
    search_fields = ["deployer", "new_revision", "old_revision", "message"]
    date_hierarchy = "started_at"


@admin.register(DeployLink)
class DeployLinkAdmin(admin.ModelAdmin):
    list_display = ["deploy", "incident", "linked_by", "linked_at"]
    raw_id_fields = ["deploy", "incident", "event"]


@admin.register(GraphSnapshot)
class GraphSnapshotAdmin(admin.ModelAdmin):
    list_display = ["title", "incident", "status", "content_type", "size", "fetched_at"]
    list_filter = ["status"]
    search_fields = ["title", "url"]
    raw_id_fields = ["incident", "event"]
    # The stored image is served only to signed-in people (graph-image), never from /media/.
    exclude = ["image"]
    readonly_fields = ["image_link", "fetch_url", "attempts", "fetched_at", "size", "content_type"]

    @admin.display(description="Image")
    def image_link(self, snapshot: GraphSnapshot) -> str:
        if not snapshot.image:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("incidents:graph-image", args=[snapshot.pk]), snapshot.image.name
        )


# --- Remediation items ----------------------------------------------------------
from .models import RemediationDigest, RemediationItem  # noqa: E402


@admin.register(RemediationItem)
class RemediationItemAdmin(admin.ModelAdmin):
    list_display = [
        "title", "origin_title", "kind", "category", "owner", "status", "due_date", "reminders_muted",
    ]  # fmt: skip
    list_filter = ["kind", "status", "category", "priority", "reminders_muted"]
    search_fields = ["title", "owner__username", "incident__title"]
    raw_id_fields = ["incident", "owner", "created_by"]
    date_hierarchy = "due_date"
    list_select_related = ["incident", "owner"]
    # Recorded when the item is written (incidents.services.remediation.create_item).
    readonly_fields = ["origin_title", "origin_url"]


@admin.register(RemediationDigest)
class RemediationDigestAdmin(admin.ModelAdmin):
    list_display = ["person", "local_date", "item_count", "sent_at"]
    raw_id_fields = ["person"]
