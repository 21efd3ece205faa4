from django.contrib import admin

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
