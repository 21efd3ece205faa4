"""Uploaded and captured files live in the database, so any web host can serve what any worker stored."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from incidents.models import SnapshotStatus
from morgue.models import StoredFile
from morgue.storage import DatabaseStorage
from tests.factories import GraphSnapshotFactory
from tests.incidents.graph_server import PNG
from tests.morgue.test_settings import _import_settings

pytestmark = pytest.mark.django_db


def test_the_default_storage_keeps_files_in_the_database():
    storage = DatabaseStorage()

    name = storage.save("graphs/7/snapshot.png", ContentFile(PNG))

    assert name == "graphs/7/snapshot.png"
    assert bytes(StoredFile.objects.get(name=name).content) == PNG
    assert storage.exists(name)
    assert storage.size(name) == len(PNG)
    with storage.open(name) as stored:
        assert stored.read() == PNG
    assert storage.listdir("graphs") == (["7"], [])
    assert storage.listdir("graphs/7") == ([], ["snapshot.png"])


def test_a_second_file_with_the_same_name_gets_its_own_name():
    storage = DatabaseStorage()
    first = storage.save("graphs/7/snapshot.png", ContentFile(b"one"))

    second = storage.save("graphs/7/snapshot.png", ContentFile(b"two"))

    assert second != first
    with storage.open(first) as stored:
        assert stored.read() == b"one"
    storage.delete(first)
    assert not storage.exists(first)
    assert storage.exists(second)


def test_a_missing_file_is_file_not_found():
    with pytest.raises(FileNotFoundError):
        DatabaseStorage().open("graphs/1/gone.png")


def _captured_snapshot(image_name: str):
    return GraphSnapshotFactory(status=SnapshotStatus.CAPTURED, image=image_name, content_type="image/png")


def test_an_image_a_worker_stored_is_served_by_a_host_with_an_empty_disk(client, person, settings, tmp_path):
    snapshot = _captured_snapshot("")
    snapshot.image.save("snapshot.png", ContentFile(PNG))  # as the capture task does
    # Another web host: its own, empty MEDIA_ROOT.
    settings.MEDIA_ROOT = tmp_path / "another-host"
    client.force_login(person)

    response = client.get(f"/graphs/{snapshot.pk}/image")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=86400"
    assert b"".join(response.streaming_content) == PNG
    assert not (tmp_path / "another-host").exists()


def test_a_stored_image_is_only_for_people_signed_in(client):
    snapshot = _captured_snapshot("")
    snapshot.image.save("snapshot.png", ContentFile(PNG))

    response = client.get(f"/graphs/{snapshot.pk}/image")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_snapshot_whose_file_is_missing_is_not_found(client, person):
    snapshot = _captured_snapshot("graphs/1/gone.png")
    client.force_login(person)

    response = client.get(f"/graphs/{snapshot.pk}/image")

    assert response.status_code == 404


def test_files_under_media_root_are_copied_into_the_database_once(client, person, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "graphs" / "3").mkdir(parents=True)
    (tmp_path / "graphs" / "3" / "snapshot-9.png").write_bytes(PNG)
    snapshot = _captured_snapshot("graphs/3/snapshot-9.png")
    client.force_login(person)
    assert client.get(f"/graphs/{snapshot.pk}/image").status_code == 404

    call_command("store_media_files", stdout=(first := io.StringIO()))
    call_command("store_media_files", stdout=(second := io.StringIO()))

    assert "Copied 1 files" in first.getvalue()
    assert "Copied 0 files" in second.getvalue() and "1 were already there" in second.getvalue()
    assert StoredFile.objects.count() == 1
    assert b"".join(client.get(f"/graphs/{snapshot.pk}/image").streaming_content) == PNG


def test_an_unknown_file_storage_refuses_to_start():
    result = _import_settings(DEBUG="1", MORGUE_FILE_STORAGE="floppy")

    assert result.returncode != 0
    assert "MORGUE_FILE_STORAGE must be one of database, filesystem" in result.stderr
