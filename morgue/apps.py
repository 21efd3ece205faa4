from django.apps import AppConfig


class MorgueConfig(AppConfig):
    name = "morgue"
    verbose_name = "Morgue (people)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .celery import ensure_broker_folders

        ensure_broker_folders()
