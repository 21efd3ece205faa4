from django.contrib import admin, messages

from . import services
from .exceptions import RotationInvalid
from .models import Override, Page, PageStep, Rotation, RotationMember, Shift, Swap


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
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
class OverrideAdmin(admin.ModelAdmin):
    list_display = ["rotation", "level", "user", "starts_at", "ends_at", "reason"]
    list_select_related = ["rotation", "user"]


@admin.register(Swap)
class SwapAdmin(admin.ModelAdmin):
    list_display = ["rotation", "level", "requested_by", "taken_by", "starts_at", "status"]


class PageStepInline(admin.TabularInline):
    model = PageStep
    extra = 0


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["team", "message", "status", "created_at", "acknowledged_by"]
    list_filter = ["status", "team"]
    inlines = [PageStepInline]
