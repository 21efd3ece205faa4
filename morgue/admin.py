from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from . import permissions, services
from .models import ApiToken, AuditEntry, EmailDelivery, Profile, Team, TeamMembership


class RulesAdmin(admin.ModelAdmin):
    """A model admin that asks `morgue.permissions` too: the admin never does what the rules refuse.

    Django's own model permissions still apply (a staff account without them sees nothing);
    the rules can only narrow them. `rule_kind` names the object kind in `permissions.RULES`;
    `edit_verb` and `delete_verb` the verbs for changing and deleting.
    """

    rule_kind: str = ""
    edit_verb = "edit"
    delete_verb = "edit"

    def _kind(self) -> str:
        return self.rule_kind or self.model._meta.model_name

    def has_add_permission(self, request, *args) -> bool:
        return super().has_add_permission(request, *args) and permissions.allowed(
            request.user, self.edit_verb, None, kind=self._kind()
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or permissions.allowed(request.user, self.edit_verb, obj, kind=self._kind())
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or permissions.allowed(request.user, self.delete_verb, obj, kind=self._kind())
        )


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["display_name", "time_zone", "sleep_start", "sleep_end"]


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class PersonAdmin(UserAdmin):
    inlines = [ProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "time_zone", "sleep_start", "sleep_end"]
    list_filter = ["time_zone"]
    search_fields = ["user__username", "display_name", "user__email"]
    # Only the feed token's prefix is kept; the person makes a new token on their profile page.
    readonly_fields = ["calendar_token_prefix"]
    exclude = ["calendar_token_hash"]
    list_select_related = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """People's API tokens, to see and revoke; made (and shown once) on the profile page or by the API."""

    list_display = [
        "prefix",
        "name",
        "owner",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope"]
    search_fields = ["prefix", "name", "owner__username"]
    list_select_related = ["owner"]
    exclude = ["secret_hash"]
    readonly_fields = [
        "owner",
        "name",
        "scope",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for api_token in queryset.filter(revoked_at__isnull=True):
            services.revoke_api_token(api_token=api_token)


class TeamMembershipInline(admin.TabularInline):
    """The team's members and their roles; saved through morgue.services (rules and audit)."""

    model = TeamMembership
    fields = ["user", "role", "from_directory"]
    readonly_fields = ["from_directory"]
    autocomplete_fields = ["user"]
    extra = 0

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and (
            obj is None or permissions.allowed(request.user, "set_role", obj)
        )

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(Team)
class TeamAdmin(RulesAdmin):
    list_display = ["name", "slug", "pageable", "email", "fallback_team"]
    list_filter = ["pageable"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]

    def has_add_permission(self, request, *args) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request) and permissions.allowed(
            request.user, "create", None, kind="team"
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not TeamMembership:
            return super().save_formset(request, form, formset, change)
        team = form.instance
        for membership_form in formset.forms:
            data = membership_form.cleaned_data
            if not data or not data.get("user"):
                continue
            if data.get("DELETE"):
                services.remove_member(team=team, user=data["user"], by=request.user)
            elif membership_form.has_changed():
                old = membership_form.initial.get("user")
                if old and old != data["user"].pk:
                    services.remove_member(
                        team=team, user=get_user_model().objects.get(pk=old), by=request.user
                    )
                services.set_member_role(team=team, user=data["user"], role=data["role"], by=request.user)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "key",
        "recipient",
        "sequence",
        "status",
        "recipient_count",
        "attempts",
        "sent_at",
    ]
    list_filter = ["name", "status"]
    search_fields = ["key", "recipient"]
    readonly_fields = ["claimed_at", "sent_at", "attempts", "error"]


admin.site.site_header = "Morgue administration"
admin.site.site_title = "Morgue admin"


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the services and never changed (morgue/audit)."""

    list_display = ["at", "actor_label", "ip", "action", "kind", "object_id", "object_label"]
    list_filter = ["action", "kind"]
    search_fields = ["actor_label", "object_label", "object_id", "request_id"]
    date_hierarchy = "at"
    ordering = ["-at", "-id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
