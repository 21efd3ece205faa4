from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from . import services
from .models import ApiToken, AuditEntry, EmailDelivery, Profile, Team


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


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "pageable", "email", "fallback_team"]
    list_filter = ["pageable"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


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
