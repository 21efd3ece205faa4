from django.apps import AppConfig


class MorgueConfig(AppConfig):
    name = "morgue"
    verbose_name = "Morgue (people)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .celery import ensure_broker_folders

        ensure_broker_folders()

        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import audit

        # The auth framework's own hooks: every way of signing in passes through them.
        user_logged_in.connect(audit.record_sign_in, dispatch_uid="morgue.audit.sign_in")
        user_login_failed.connect(audit.record_failed_sign_in, dispatch_uid="morgue.audit.sign_in_failed")
