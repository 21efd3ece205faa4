from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from morgue.counters import ensure_counts_after_migrate

        from .models.incident import INCIDENT_COUNTS

        # Keeps the list's counting triggers in place after any migration (see morgue.counters).
        self.ensure_counts = ensure_counts_after_migrate((INCIDENT_COUNTS,))
        post_migrate.connect(self.ensure_counts, sender=self)
