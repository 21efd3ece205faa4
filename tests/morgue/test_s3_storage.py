"""Uploaded and captured files in an S3-compatible bucket (MORGUE_FILE_STORAGE=s3), on a local S3 server.

The server is moto's (`ThreadedMotoServer`): a real HTTP server on loopback
that speaks S3's REST protocol to boto3, as MinIO or Ceph would, with the
bucket's objects in its memory.
"""

import io
import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from incidents.models import GraphSnapshot, SnapshotStatus
from incidents.tasks.graph import capture_graph
from morgue.models import StoredFile
from morgue.storage import DatabaseStorage
from tests.factories import GraphSnapshotFactory, IncidentFactory
from tests.incidents.graph_server import PNG, graph_server
from tests.integration.conftest import free_port, readme_block
from tests.morgue.test_settings import ROOT, _import_settings

pytestmark = pytest.mark.django_db

BUCKET = "morgue-files"


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_environment(s3_server, monkeypatch):
    """What an operator sets to keep files in the bucket; boto3 and django-storages read the keys from it."""
    environment = {
        "MORGUE_FILE_STORAGE": "s3",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "AWS_S3_ENDPOINT_URL": s3_server,
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_ACCESS_KEY_ID": "morgue-test-key",
        "AWS_SECRET_ACCESS_KEY": "morgue-test-secret",
    }
    # The README's example sets these same variables.
    assert set(re.findall(r"\b([A-Z][A-Z0-9_]+)=", readme_block("MORGUE_FILE_STORAGE=s3"))) == set(
        environment
    )
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    bucket = boto3.resource("s3", endpoint_url=s3_server, region_name="us-east-1").Bucket(BUCKET)
    bucket.create()
    yield environment
    bucket.objects.all().delete()
    bucket.delete()


@pytest.fixture
def s3_storage(s3_environment, settings):
    """The default storage exactly as morgue/settings.py builds it from that environment."""
    settings.STORAGES = {**settings.STORAGES, "default": _storage_settings(s3_environment)}
    return s3_environment


def _storage_settings(environment: dict[str, str]) -> dict:
    code = "import json, morgue.settings as s; print(json.dumps(s.STORAGES['default']))"
    result = _run_python(code, environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _run_python(code: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Another process on this checkout, with Morgue's settings read from `environment` (DEBUG on)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST"))}
    env.update(environment, DEBUG="1", DJANGO_SETTINGS_MODULE="morgue.settings")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )


def _objects(s3_server: str) -> dict[str, bytes]:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: client.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in keys}


def test_s3_storage_needs_a_bucket():
    result = _import_settings(DEBUG="1", MORGUE_FILE_STORAGE="s3", AWS_STORAGE_BUCKET_NAME="")

    assert result.returncode != 0
    assert "MORGUE_FILE_STORAGE=s3 needs the bucket's name in AWS_STORAGE_BUCKET_NAME" in result.stderr


def test_the_database_stays_the_default_storage():
    environment = {"MORGUE_FILE_STORAGE": "", "AWS_STORAGE_BUCKET_NAME": BUCKET}

    assert _storage_settings(environment) == {"BACKEND": "morgue.storage.DatabaseStorage", "OPTIONS": {}}


def test_a_graph_captured_into_the_bucket_is_read_by_another_process(
    s3_storage, s3_server, api, settings, client, person, django_capture_on_commit_callbacks
):
    incident = IncidentFactory()
    with graph_server() as (base, _requests):
        settings.GRAPH_FETCH_ALLOWED_HOSTS = [base.removeprefix("http://")]
        response = api.post(
            f"/api/v1/incidents/{incident.pk}/graphs/",
            {"title": "5xx", "url": f"{base}/graph.png"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert capture_graph(response.json()["id"]) == "captured"
    snapshot = GraphSnapshot.objects.get()
    assert snapshot.status == SnapshotStatus.CAPTURED

    # In the bucket, under the name the row holds; nothing in the database's storage.
    assert _objects(s3_server) == {snapshot.image.name: PNG}
    assert not StoredFile.objects.exists()
    # Another process (a second web host) reads it with nothing but the environment ...
    read = _run_python(
        "import sys, django; django.setup();"
        "from django.core.files.storage import default_storage as storage;"
        f"sys.stdout.buffer.write(storage.open({snapshot.image.name!r}).read())",
        s3_storage,
    )
    assert read.returncode == 0, read.stderr.decode()
    assert read.stdout == PNG
    # ... and what it stores, this one serves to a signed-in person.
    written = _run_python(
        "import django; django.setup();"
        "from django.core.files.base import ContentFile;"
        "from django.core.files.storage import default_storage as storage;"
        "print(storage.save('graphs/from-another-host.png', ContentFile(b'another host')))",
        s3_storage,
    )
    assert written.returncode == 0, written.stderr.decode()
    other = GraphSnapshotFactory(
        status=SnapshotStatus.CAPTURED, image=written.stdout.decode().strip(), content_type="image/png"
    )
    client.force_login(person)
    answer = client.get(f"/graphs/{other.pk}/image")
    assert answer.status_code == 200
    assert b"".join(answer.streaming_content) == b"another host"


def test_a_second_file_with_the_same_name_does_not_replace_the_first(s3_storage, s3_server):
    first = default_storage.save("graphs/7/snapshot.png", ContentFile(b"one"))

    second = default_storage.save("graphs/7/snapshot.png", ContentFile(b"two"))

    assert first == "graphs/7/snapshot.png" and second != first
    assert _objects(s3_server) == {first: b"one", second: b"two"}


def test_a_snapshot_whose_object_is_missing_is_not_found(s3_storage, client, person):
    snapshot = GraphSnapshotFactory(
        status=SnapshotStatus.CAPTURED, image="graphs/1/gone.png", content_type="image/png"
    )
    client.force_login(person)

    response = client.get(f"/graphs/{snapshot.pk}/image")

    assert response.status_code == 404


def test_store_media_files_moves_files_from_media_root_and_the_database_into_the_bucket(
    s3_storage, s3_server, settings, tmp_path, client, person
):
    # Before: one snapshot kept on disk by an old release, one in the database (the default storage).
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "graphs" / "3").mkdir(parents=True)
    (tmp_path / "graphs" / "3" / "snapshot-9.png").write_bytes(PNG)
    DatabaseStorage().save("graphs/4/snapshot-10.png", ContentFile(b"kept in the database"))
    snapshots = [
        GraphSnapshotFactory(status=SnapshotStatus.CAPTURED, image=name, content_type="image/png")
        for name in ("graphs/3/snapshot-9.png", "graphs/4/snapshot-10.png")
    ]
    client.force_login(person)
    assert [client.get(f"/graphs/{snapshot.pk}/image").status_code for snapshot in snapshots] == [404, 404]

    call_command("store_media_files", stdout=(first := io.StringIO()))
    call_command("store_media_files", stdout=(second := io.StringIO()))

    assert "Copied 1 files from" in first.getvalue()
    assert "Copied 1 files from the database to the storage; 0 were already there." in first.getvalue()
    assert second.getvalue().count("Copied 0 files") == 2
    assert _objects(s3_server) == {
        "graphs/3/snapshot-9.png": PNG,
        "graphs/4/snapshot-10.png": b"kept in the database",
    }
    served = [
        b"".join(client.get(f"/graphs/{snapshot.pk}/image").streaming_content) for snapshot in snapshots
    ]
    assert served == [PNG, b"kept in the database"]
