from django import forms
from django.contrib import admin, messages

from morgue.admin import RulesAdmin

from . import contact, services
from .exceptions import RotationInvalid
from .models import (
    ContactMethod,
    Notification,
    NotificationRule,
    Override,
    Page,
    PageStep,
    Rotation,
    RotationMember,
    Shift,
    Swap,
)


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Rotation)
class RotationAdmin(RulesAdmin):
    # Edits go through the same service as the API: shifts are rebuilt from the
    # next handoff, layers re-resolved and the people whose shifts changed told.
    list_display = [
        "name",
        "team",
        "time_zone",
        "shift_length_days",
        "shift_length_hours",
        "handoff_time",
        "advance",
        "layer",
        "has_l2",
        "everyone_else",
    ]
    list_filter = ["team", "has_l2", "everyone_else", "advance", "layer"]
    inlines = [RotationMemberInline]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        try:
            services.update_rotation(rotation=obj, **fields)
        except RotationInvalid as error:
            messages.error(request, f"Not saved: {error.message}")

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Members are saved by the inline after the rotation: rebuild from the next handoff.
        if any(formset.has_changed() for formset in formsets) or not change:
            services.materialise_shifts(rotation=form.instance, reanchor=change)


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["rotation", "level", "user", "starts_at", "ends_at", "source", "number"]
    list_filter = ["rotation", "level", "source"]
    date_hierarchy = "starts_at"
    list_select_related = ["rotation", "user"]


@admin.register(Override)
class OverrideAdmin(RulesAdmin):
    rule_kind = "rotation"
    edit_verb = delete_verb = "override_others"

    list_display = ["rotation", "level", "user", "starts_at", "ends_at", "reason"]
    list_select_related = ["rotation", "user"]


@admin.register(Swap)
class SwapAdmin(admin.ModelAdmin):
    list_display = ["rotation", "level", "requested_by", "taken_by", "starts_at", "status"]


class PageStepInline(admin.TabularInline):
    model = PageStep
    extra = 0


@admin.register(Page)
class PageAdmin(RulesAdmin):
    edit_verb = delete_verb = "resolve"

    list_display = ["team", "message", "status", "created_at", "acknowledged_by", "resolved_at"]
    list_filter = ["status", "team"]
    inlines = [PageStepInline]


class NotificationRuleInline(admin.TabularInline):
    model = NotificationRule
    extra = 0


class ContactMethodAdminForm(forms.ModelForm):
    class Meta:
        model = ContactMethod
        fields = ["user", "kind", "address", "label"]

    def clean(self):
        # The same address rules as the API and the profile (oncall.contact).
        data = super().clean() or {}
        try:
            data["address"] = contact.check_address(data.get("kind", ""), data.get("address", ""))
        except contact.InvalidAddress as error:
            self.add_error("address", str(error))
        return data


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "address", "label", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "address"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    form = ContactMethodAdminForm


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ["user", "contact_method", "delay_minutes"]
    list_select_related = ["user", "contact_method"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    # A record of what was sent: read only, so nothing here can send twice or lose a send.
    list_display = ["key", "kind", "address", "status", "attempts", "due_at", "sent_at", "error"]
    list_filter = ["status", "kind"]
    search_fields = ["key", "address", "provider_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
