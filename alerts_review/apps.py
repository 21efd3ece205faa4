from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AlertsReviewConfig(AppConfig):
    name = "alerts_review"
    verbose_name = "Alerts review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from morgue.counters import ensure_counts_after_migrate

        from .models import ALERT_COUNTS

        # Keeps the report's counting triggers in place after any migration (see morgue.counters).
        self.ensure_counts = ensure_counts_after_migrate(ALERT_COUNTS)
        post_migrate.connect(self.ensure_counts, sender=self)
