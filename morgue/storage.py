"""Uploaded and captured files (graph snapshots) stored in the database.

Files written by a Celery worker on one host must be readable by the web
server on another; the one thing they all share is the database. Snapshots
are small (at most 5 MB each) and few, so a row per file is simpler to run
than a shared volume or an object store, and it is backed up with the rest.
Django's Storage API is small enough that our own class, below, is less to
keep than a third-party one.
"""

from datetime import datetime

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils.deconstruct import deconstructible

from .models import StoredFile


@deconstructible
class DatabaseStorage(Storage):
    """A Django Storage whose files are `StoredFile` rows."""

    def _open(self, name: str, mode: str = "rb") -> File:
        if "w" in mode or "a" in mode:
            raise ValueError("Files in the database are written with save(), not opened for writing.")
        content = StoredFile.objects.filter(name=name).values_list("content", flat=True).first()
        if content is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        return ContentFile(bytes(content), name=name)

    def _save(self, name: str, content: File) -> str:
        data = b"".join(content.chunks())
        # Two writers may pick the same free name; the unique name decides.
        while True:
            try:
                with transaction.atomic():
                    StoredFile.objects.create(name=name, content=data, size=len(data))
                return name
            except IntegrityError:
                name = self.get_available_name(name)

    def delete(self, name: str) -> None:
        StoredFile.objects.filter(name=name).delete()

    def exists(self, name: str) -> bool:
        return StoredFile.objects.filter(name=name).exists()

    def size(self, name: str) -> int:
        size = StoredFile.objects.filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        return size

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        directories, files = set(), []
        for name in StoredFile.objects.filter(name__startswith=prefix).values_list("name", flat=True):
            head, _, rest = name[len(prefix) :].partition("/")
            if rest:
                directories.add(head)
            else:
                files.append(head)
        return sorted(directories), sorted(files)

    def get_created_time(self, name: str) -> datetime:
        created = StoredFile.objects.filter(name=name).values_list("created_at", flat=True).first()
        if created is None:
            raise FileNotFoundError(f"No stored file named {name!r}.")
        return created

    get_modified_time = get_created_time

    def url(self, name: str | None) -> str:
        # Each kind of file has its own view that checks who may read it
        # (a graph snapshot: incidents:graph-image); there is no public address.
        raise NotImplementedError(f"Stored files are served by their own views, not by address ({name}).")
