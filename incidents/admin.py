from django.contrib import admin

# --- Evidence: deploys and graph snapshots -------------------------------------
from .models import Deploy, DeployLink, GraphSnapshot


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
    readonly_fields = ["fetch_url", "attempts", "fetched_at", "size", "content_type"]


# --- Remediation items ----------------------------------------------------------
from .models import RemediationDigest, RemediationItem  # noqa: E402
from .models.remediation import ORIGIN_RELATED  # noqa: E402


@admin.register(RemediationItem)
class RemediationItemAdmin(admin.ModelAdmin):
    list_display = [
        "title", "origin_title", "kind", "category", "owner", "status", "due_date", "reminders_muted",
    ]  # fmt: skip
    list_filter = ["kind", "status", "category", "priority", "reminders_muted"]
    search_fields = ["title", "owner__username", "incident__title"]
    raw_id_fields = ["incident", "owner", "created_by"]
    date_hierarchy = "due_date"
    list_select_related = ["incident", "owner", *ORIGIN_RELATED]

    @admin.display(description="From")
    def origin_title(self, item: RemediationItem) -> str:
        return item.origin_title


@admin.register(RemediationDigest)
class RemediationDigestAdmin(admin.ModelAdmin):
    list_display = ["person", "local_date", "item_count", "sent_at"]
    raw_id_fields = ["person"]
