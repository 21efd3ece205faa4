from django.apps import AppConfig


class AlertsReviewConfig(AppConfig):
    name = "alerts_review"
    verbose_name = "Alerts review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from morgue.counters import keep_after_migrate

        from .models import ALERT_COUNTS, ALERT_ROLLUPS, counts_floor

        # Keeps the counting triggers in place after any migration (see morgue.counters).
        # The rollups come after the counts they sum: a recount of those is summed again.
        keep_after_migrate(self, *ALERT_COUNTS, *ALERT_ROLLUPS, floor=counts_floor)
