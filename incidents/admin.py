from django.contrib import admin

from incidents.models import RemediationDigest, RemediationItem

# --- Remediation items ----------------------------------------------------------


@admin.register(RemediationItem)
class RemediationItemAdmin(admin.ModelAdmin):
    list_display = ["title", "incident", "kind", "category", "owner", "status", "due_date", "reminders_muted"]
    list_filter = ["kind", "status", "category", "priority", "reminders_muted"]
    search_fields = ["title", "owner__username", "incident__title"]
    raw_id_fields = ["incident", "owner", "created_by"]
    date_hierarchy = "due_date"


@admin.register(RemediationDigest)
class RemediationDigestAdmin(admin.ModelAdmin):
    list_display = ["person", "local_date", "item_count", "sent_at"]
    raw_id_fields = ["person"]
