from django.apps import AppConfig


class AlertsReviewConfig(AppConfig):
    name = "alerts_review"
    verbose_name = "Alerts review"
    default_auto_field = "django.db.models.BigAutoField"
