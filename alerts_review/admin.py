from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from morgue.admin import RulesAdmin

from . import paging, paging_rules, services
from .models import (
    Alert,
    AlertReview,
    AlertSilence,
    AlertSource,
    Category,
    Heartbeat,
    MaintenanceWindow,
    PagingPolicy,
    ReviewAction,
    RoutingRule,
    TruncatedAlerts,
)


@admin.register(AlertSource)
class AlertSourceAdmin(RulesAdmin):
    list_display = ["name", "kind", "team", "alertmanager_url", "created_at", "revoked_at"]
    list_filter = ["kind"]
    readonly_fields = ["token_prefix", "created_at", "history"]
    actions = ["revoke", "reset_token"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        obj.issue_token()
        super().save_model(request, obj, form, change)
        self._show_token_once(request, obj)

    @staticmethod
    def _show_token_once(request, source) -> None:
        # Only the hash is kept: this message is the one time the token is seen.
        messages.warning(
            request,
            f"The token of {source.name} is {source.token} — copy it now, it will not be shown again.",
        )

    @admin.display(description="History")
    def history(self, source):
        if source.pk is None:
            return "—"
        url = reverse("audit-object", args=[source._meta.label_lower, source.pk])
        return format_html('<a href="{}">Audit trail of this source</a>', url)

    @admin.action(description="Revoke the selected sources' tokens")
    def revoke(self, request, queryset):
        for source in queryset.active():
            services.revoke_source(source=source)

    @admin.action(description="Give the selected sources new tokens (shown once)")
    def reset_token(self, request, queryset):
        for source in queryset:
            self._show_token_once(request, services.reset_source_token(source=source))


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["slug", "description", "kind", "hint", "position"]
    list_editable = ["position"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["check_pattern", "team", "position"]


@admin.register(Alert)
class AlertAdmin(RulesAdmin):
    edit_verb = delete_verb = "classify"

    list_display = ["check_name", "host", "source", "team", "paged", "fired_at", "category", "out_of_hours"]
    list_filter = ["source", "team", "category", "paging", "out_of_hours", "is_test"]
    search_fields = ["check_name", "host", "identity"]
    date_hierarchy = "fired_at"
    list_select_related = ["team", "paged", "category"]
    raw_id_fields = ["paged", "classified_by", "alert_source", "page"]


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


class PagingPolicyForm(forms.ModelForm):
    class Meta:
        model = PagingPolicy
        fields = ["team", "rules", "grouping_window_minutes"]

    def clean_rules(self):
        # The same parse as the API and the team's page; a bad matcher is named on the field.
        try:
            return paging_rules.rules_as_data(paging_rules.parse_rules(self.cleaned_data["rules"]))
        except paging_rules.RuleError as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(PagingPolicy)
class PagingPolicyAdmin(RulesAdmin):
    form = PagingPolicyForm
    list_display = ["team", "grouping_window_minutes", "updated_at"]

    def save_model(self, request, obj, form, change):
        saved = paging.update_policy(
            team=obj.team, rules=obj.rules, grouping_window_minutes=obj.grouping_window_minutes
        )
        obj.pk = saved.pk


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(RulesAdmin):
    list_display = ["team", "check_pattern", "starts_at", "ends_at", "reason", "created_by"]
    list_filter = ["team"]
    date_hierarchy = "starts_at"
    readonly_fields = ["created_by", "created_at"]
    actions = ["end_now"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = paging.create_maintenance_window(
            team=obj.team,
            check_pattern=obj.check_pattern,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            reason=obj.reason,
            created_by=request.user,
        )
        obj.pk = created.pk

    @admin.action(description="End the selected windows now")
    def end_now(self, request, queryset):
        for window in queryset:
            paging.end_maintenance_window(window=window)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = [
        "check_name",
        "alert_source",
        "interval_minutes",
        "grace_minutes",
        "last_seen_at",
        "is_active",
    ]
    list_filter = ["is_active"]
    readonly_fields = ["last_seen_at", "page"]


@admin.register(AlertSilence)
class AlertSilenceAdmin(admin.ModelAdmin):
    """Read-only: Morgue creates and expires the silences; Alertmanager is where they act."""

    list_display = ["silence_id", "alertmanager_url", "page", "alert", "created_at", "ends_at", "expired_at"]
    list_filter = ["expired_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
