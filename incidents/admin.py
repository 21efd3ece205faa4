from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

# --- Incidents and postmortems ---------------------------------------------------
from incidents.forms import add_refusal
from incidents.models import BlamelessPhrase, Incident, ReviewMeeting, Revision, Tag, TimelineEvent
from incidents.services import incident as services
from morgue.admin import RulesAdmin
from morgue.exceptions import MorgueError


class TimelineEventInline(admin.TabularInline):
    model = TimelineEvent
    extra = 0
    fields = ["occurred_at", "kind", "text", "link", "author", "speaker"]
    raw_id_fields = ["author"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # as the page's form does


# What the admin edits: what the services edit, in the model's order.
EDITED_FIELDS = [
    field.name
    for field in (*Incident._meta.concrete_fields, *Incident._meta.many_to_many)
    if field.name in {*services.EDITABLE_FIELDS, "status", "tags"}
]


class IncidentAdminForm(forms.ModelForm):
    """The admin's incident form: parsed here, saved by the same service as the page and the API."""

    # The version the form was read at: a save on top of an older one is refused, as on the page.
    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # Why the service refused the last save of this form (IncidentAdmin.changeform_view).
    refusal: Exception | None = None

    class Meta:
        model = Incident
        fields = EDITED_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edited_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.refusal is not None:
            add_refusal(self, self.refusal)
        return cleaned


class _RefusedSave(Exception):
    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


@admin.register(Incident)
class IncidentAdmin(RulesAdmin):
    delete_verb = "delete"
    form = IncidentAdminForm
    list_display = ["title", "severity", "status", "team", "impact_started_at", "facilitator", "deleted_at"]
    list_filter = ["status", "severity", "team", "deleted_at"]
    search_fields = ["title"]
    raw_id_fields = ["contact", "facilitator"]
    # Kept by the services: the version and times by every save, the author at
    # creation, deletion by the Delete and Restore actions.
    readonly_fields = ["version", "created_by", "created_at", "updated_at", "deleted_at"]
    inlines = [TimelineEventInline]
    date_hierarchy = "impact_started_at"
    actions = ["delete_softly", "restore"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "incident_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _RefusedSave as refused:
            # The service refused and the whole save rolled back: show the same
            # form again, the refusal on its field (IncidentAdminForm.clean).
            request.incident_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Create or edit through the incident services: the status rule, a revision, a new version."""
        changes = dict(form.cleaned_data)
        version = changes.pop("edited_version", None)
        changes["tags"] = [tag.name for tag in changes.get("tags", ())]
        if "status" not in form.changed_data:
            changes.pop("status", None)  # left as shown: it follows the times (Incident.move_to)
        try:
            if change:
                saved = services.update_incident(
                    incident=obj,
                    by=request.user,
                    version=version,
                    changes=changes,
                    note="Edited in the admin",
                )
            else:
                saved = services.create_incident(by=request.user, **changes)
        except (MorgueError, ValidationError) as error:
            raise _RefusedSave(error) from error
        # The admin goes on with `obj` (inlines, the log, the redirect): make it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # The tags were saved by the service; only the timeline inline is left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Delete the selected incidents (staff can restore them)")
    def delete_softly(self, request, queryset):
        for incident in queryset.filter(deleted_at__isnull=True):
            services.delete_incident(incident=incident, by=request.user)
        messages.success(request, "Deleted. They have left every list and metric; Restore brings them back.")

    @admin.action(description="Restore the selected deleted incidents")
    def restore(self, request, queryset):
        for incident in queryset.filter(deleted_at__isnull=False):
            services.restore_incident(incident=incident, by=request.user)
        messages.success(request, "Restored.")


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
from .models import RemediationItem  # noqa: E402


@admin.register(RemediationItem)
class RemediationItemAdmin(RulesAdmin):
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


# --- Running an incident: staff define roles and postmortem templates ------------------
from .models import PostmortemTemplate, RoleAssignment, RoleKind, StatusUpdate, UpdateDelivery  # noqa: E402


@admin.register(RoleKind)
class RoleKindAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PostmortemTemplate)
class PostmortemTemplateAdmin(admin.ModelAdmin):
    """A new incident starts from the template that fits its team and severity best (team first)."""

    list_display = ["name", "team", "severity"]
    list_filter = ["team", "severity"]


class _ReadOnly(admin.ModelAdmin):
    """Written by the services (the incident page and the API); the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(_ReadOnly):
    list_display = ["incident", "role", "user", "assigned_at", "ended_at"]
    list_select_related = ["incident", "role", "user"]


@admin.register(StatusUpdate)
class StatusUpdateAdmin(_ReadOnly):
    list_display = ["incident", "posted_at", "author", "next_update_at"]
    list_select_related = ["incident", "author"]


@admin.register(UpdateDelivery)
class UpdateDeliveryAdmin(_ReadOnly):
    list_display = ["update", "kind", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "kind"]


# --- The incident's chat channel and role change copies ----------------------------------
from .models import IncidentChannel, RoleChangeDelivery  # noqa: E402


@admin.register(IncidentChannel)
class IncidentChannelAdmin(_ReadOnly):
    list_display = [
        "incident",
        "provider",
        "name",
        "channel_id",
        "setup",
        "attempts",
        "error",
        "history_pulled_at",
    ]
    list_filter = ["provider", "setup"]
    list_select_related = ["incident"]


@admin.register(RoleChangeDelivery)
class RoleChangeDeliveryAdmin(_ReadOnly):
    list_display = ["assignment", "kind", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "kind"]


# --- Slack user groups kept to who is on call ---------------------------------------
from incidents.models import SlackUserGroup  # noqa: E402
from incidents.services import slack_groups  # noqa: E402


@admin.register(SlackUserGroup)
class SlackUserGroupAdmin(admin.ModelAdmin):
    """Which Slack user group names whom; saved through the service, which sets it at once."""

    list_display = ["usergroup_id", "team", "rotation", "include_l2", "synced_at", "error"]
    list_select_related = ["team", "rotation"]
    fields = ["usergroup_id", "team", "rotation", "include_l2", "synced_at", "slack_users", "error"]
    readonly_fields = ["synced_at", "slack_users", "error"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = slack_groups.configure_user_group(
            usergroup_id=data["usergroup_id"],
            team=data["team"],
            rotation=data.get("rotation"),
            include_l2=data.get("include_l2", False),
            group=obj if change else None,
        )
        obj.pk = saved.pk


# --- Trackers ---------------------------------------------------------------------
from incidents.models import TeamTracker, TrackerIssue  # noqa: E402
from incidents.services import trackers as tracker_services  # noqa: E402


class TeamTrackerForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Address",
        required=False,
        assume_scheme="https",
        help_text=TeamTracker._meta.get_field("base_url").help_text,
    )

    class Meta:
        model = TeamTracker
        fields = ["team", "kind", "base_url", "project", "issue_type", "create_automatically"]

    def clean_base_url(self) -> str:
        # The SSRF rule, here so a refused address is shown on the form rather than failing the save.
        url = self.cleaned_data.get("base_url") or ""
        try:
            return tracker_services.check_address(url) if url.strip() else ""
        except ValidationError as error:
            raise ValidationError(error.messages) from error


@admin.register(TeamTracker)
class TeamTrackerAdmin(admin.ModelAdmin):
    """Where each team's remediation items become issues; saved through the trackers service."""

    form = TeamTrackerForm
    list_display = ["team", "kind", "project", "base_url", "create_automatically"]
    list_select_related = ["team"]
    fields = ["team", "kind", "base_url", "project", "issue_type", "create_automatically"]

    def get_readonly_fields(self, request, obj=None):
        return ["team"] if obj else []

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = tracker_services.set_team_tracker(
            team=obj.team,
            kind=data["kind"],
            project=data["project"],
            base_url=data.get("base_url") or "",
            issue_type=data.get("issue_type") or "Task",
            create_automatically=data.get("create_automatically", False),
        )
        obj.pk = saved.pk


@admin.register(TrackerIssue)
class TrackerIssueAdmin(_ReadOnly):
    list_display = ["item", "kind", "key", "status", "remote_state", "attempts", "last_error"]
    list_filter = ["kind", "status"]
    list_select_related = ["item"]
