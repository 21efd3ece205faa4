from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Copy the files under MEDIA_ROOT (graph snapshots stored before files moved to the "
        "database) into the file storage, under the same names. Safe to run again: files "
        "already stored are left alone."
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
            if default_storage.exists(name):
                skipped += 1
                continue
            with path.open("rb") as content:
                stored = default_storage.save(name, File(content))
            if stored != name:
                raise CommandError(f"{name} was stored as {stored}: another process writes the same names.")
            copied += 1
        self.stdout.write(f"Copied {copied} files from {root} to the storage; {skipped} were already there.")
