from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError

from morgue.models import StoredFile
from morgue.storage import DatabaseStorage


class Command(BaseCommand):
    help = (
        "Copy the files under MEDIA_ROOT (graph snapshots stored before files moved to the "
        "database) into the file storage, under the same names; with MORGUE_FILE_STORAGE=s3, "
        "copy the files kept in the database as well. Safe to run again: files already "
        "stored are left alone."
    )

    def handle(self, *args, **options):
        if isinstance(default_storage, FileSystemStorage):
            raise CommandError("MORGUE_FILE_STORAGE is filesystem: MEDIA_ROOT is already the storage.")
        root = Path(settings.MEDIA_ROOT)
        copied = skipped = 0
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if not path.is_file():
                continue
            # The name a FileField holds: the path under MEDIA_ROOT, with forward slashes.
            name = path.relative_to(root).as_posix()
            with path.open("rb") as content:
                if self._store(name, File(content)):
                    copied += 1
                else:
                    skipped += 1
        self.stdout.write(f"Copied {copied} files from {root} to the storage; {skipped} were already there.")
        if isinstance(default_storage, DatabaseStorage):
            return
        # Moving from the database storage (the default) to an object store: the rows
        # stay, so the move can be checked, or undone by setting MORGUE_FILE_STORAGE back.
        copied = skipped = 0
        for name in StoredFile.objects.order_by("name").values_list("name", flat=True).iterator():
            # One file's bytes in memory at a time (each is up to 5 MB).
            data = StoredFile.objects.filter(name=name).values_list("content", flat=True).get()
            if self._store(name, ContentFile(bytes(data))):
                copied += 1
            else:
                skipped += 1
        self.stdout.write(
            f"Copied {copied} files from the database to the storage; {skipped} were already there."
        )

    def _store(self, name: str, content: File) -> bool:
        """Store `content` as `name`; False when a file of that name is there already."""
        if default_storage.exists(name):
            return False
        stored = default_storage.save(name, content)
        if stored != name:
            raise CommandError(f"{name} was stored as {stored}: another process writes the same names.")
        return True
