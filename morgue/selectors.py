"""Composed reads for the project-level pages."""

from django.conf import settings

from .celery import app as celery_app


def broker_status() -> str:
    """`ok` when the Celery broker accepts a connection within a second, else `unavailable`."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        from pathlib import Path

        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
        return "ok" if folder.is_dir() else "unavailable"
    if url.startswith("memory://"):
        return "ok"
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=1)
    except Exception:  # noqa: BLE001 - any failure means the broker is not usable
        return "unavailable"
    return "ok"


def home_context(*, user) -> dict:
    from oncall.models import Team

    teams = Team.objects.select_related("fallback_team").order_by("name")
    return {"teams": teams, "my_teams": {team.pk for team in user.teams.all()}}
