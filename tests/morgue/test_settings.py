import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _import_settings(**env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import morgue.settings"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _import_settings(DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_secret_key():
    assert _import_settings(DEBUG="0", SECRET_KEY="x" * 60).returncode == 0


def test_postgres_url_selects_psycopg(settings):
    import dj_database_url

    parsed = dj_database_url.parse("postgres://morgue@127.0.0.1:5432/morgue")

    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "UTC"
