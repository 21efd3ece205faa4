from django.contrib import admin

from .models import Alert, AlertReview, AlertSource, Category, ReviewAction, RoutingRule, TruncatedAlerts


@admin.register(AlertSource)
class AlertSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "team", "created_at", "revoked_at"]
    list_filter = ["kind"]
    readonly_fields = ["token", "created_at"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected sources' tokens")
    def revoke(self, request, queryset):
        for source in queryset.active():
            source.revoke()


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "description", "kind", "hint", "position"]
    list_editable = ["position"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["check_pattern", "team", "position"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["check_name", "host", "source", "team", "paged", "fired_at", "category", "out_of_hours"]
    list_filter = ["source", "team", "category", "out_of_hours", "is_test"]
    search_fields = ["check_name", "host", "identity"]
    date_hierarchy = "fired_at"
    list_select_related = ["team", "paged", "category"]
    raw_id_fields = ["paged", "classified_by", "alert_source"]


@admin.register(TruncatedAlerts)
class TruncatedAlertsAdmin(admin.ModelAdmin):
    """Read-only: what Alertmanager said it left out."""

    list_display = ["received_at", "count", "alert_source", "team", "group_key"]
    list_filter = ["alert_source", "team"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReviewActionInline(admin.TabularInline):
    model = ReviewAction
    extra = 0
    raw_id_fields = ["remediation", "created_by"]


@admin.register(AlertReview)
class AlertReviewAdmin(admin.ModelAdmin):
    list_display = ["team", "month", "updated_at"]
    inlines = [ReviewActionInline]
