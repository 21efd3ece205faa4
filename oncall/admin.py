from django.contrib import admin

from .models import Override, Page, PageStep, Rotation, RotationMember, Shift, Swap


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    # Edits here bypass the services that rebuild future shifts; use the API
    # or re-run `materialise_rotation` after changing the schedule here.
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
    list_filter = ["team", "has_l2", "everyone_else"]
    inlines = [RotationMemberInline]


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
