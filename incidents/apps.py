from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from morgue.counters import keep_after_migrate

        from .models.incident import INCIDENT_COUNTS
        from .models.remediation import REMEDIATION_COUNTS

        # Keeps the counting triggers in place after any migration (see morgue.counters).
        keep_after_migrate(self, INCIDENT_COUNTS, REMEDIATION_COUNTS)
