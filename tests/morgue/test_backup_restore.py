"""The README's backup and restore, run as written on the demo organisation, loses nothing.

It needs PostgreSQL (pg_dump and pg_restore), so it runs in the PostgreSQL pass
of `.ci/run` and is skipped on SQLite.
"""

import os
import shlex
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from tests.integration.conftest import readme_block

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
# A PNG's first bytes and more: what a captured graph looks like to the storage.
GRAPH = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def _url(name: str) -> str:
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"


def _run(block: str, *, environment: dict[str, str], cwd: Path) -> None:
    for line in block.splitlines():
        command = line.split("#", 1)[0].strip()
        if command:
            result = subprocess.run(
                ["bash", "-c", command], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


def _fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a digest of all its rows, in a stable order."""
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as database:
        tables = [
            row[0]
            for row in database.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        prints = {}
        for table in tables:
            name = psycopg.sql.Identifier(table)
            count, digest = database.execute(
                psycopg.sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
                ).format(name)
            ).fetchone()
            prints[table] = (count, digest)
        return prints


def test_the_readmes_backup_restores_every_table_and_stored_file(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump and pg_restore need PostgreSQL; the PostgreSQL pass of .ci/run runs this")
    call_command("seed_demo", verbosity=0)
    default_storage.save("graphs/backup-test.png", ContentFile(GRAPH))
    source = _url(connection.settings_dict["NAME"])
    restored_name = f"morgue_restored_{uuid.uuid4().hex[:8]}"
    restored = _url(restored_name)
    dump = tmp_path / "morgue.dump"
    backup = readme_block("pg_dump --format=custom")
    restore = readme_block("pg_restore --no-owner")
    restore = (
        restore.replace("morgue_restored", restored_name)
        .replace(f"postgres://morgue:…@db:5432/{restored_name}", restored)
        .replace("morgue.dump", shlex.quote(str(dump)))
        .replace(".venv/bin/python", shlex.quote(str(ROOT / ".venv" / "bin" / "python")))
    )
    environment = {
        **os.environ,
        "DATABASE_URL": source,
        "DJANGO_SETTINGS_MODULE": "morgue.settings",
        "DEBUG": "1",
        "PGHOST": connection.settings_dict["HOST"] or "127.0.0.1",
        "PGPORT": str(connection.settings_dict["PORT"] or 5432),
        "PGUSER": connection.settings_dict["USER"] or "postgres",
    }
    try:
        _run(backup.replace("morgue.dump", shlex.quote(str(dump))), environment=environment, cwd=ROOT)
        _run(restore, environment=environment, cwd=ROOT)

        before, after = _fingerprints(source), _fingerprints(restored)
        assert set(after) == set(before)
        differing = {
            table: (before[table], after[table]) for table in before if before[table] != after[table]
        }
        assert differing == {}
        # The demo filled what matters, so equal digests mean something.
        assert before["incidents_incident"][0] > 0 and before["oncall_shift"][0] > 0
        assert before["morgue_storedfile"][0] >= 1
        with psycopg.connect(restored.replace("postgres://", "postgresql://", 1)) as database:
            [content] = database.execute(
                "SELECT content FROM morgue_storedfile WHERE name = 'graphs/backup-test.png'"
            ).fetchone()
        assert bytes(content) == GRAPH
    finally:
        subprocess.run(["dropdb", "--if-exists", restored_name], env=environment, check=False, timeout=60)
