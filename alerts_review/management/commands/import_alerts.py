import csv
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...models import Category
from ...payloads import GENERIC_FIELDS, BadPayload, generic_alert
from ...services import HistoryRow, import_history

BATCH = 1000
EXTRA_COLUMNS = {"source", "category", "note", "woke_me_up"}
TRUE = {"1", "true", "yes", "y"}
FALSE = {"", "0", "false", "no", "n"}


class Command(BaseCommand):
    help = (
        "Import past alerts from a CSV file with a header row: check and fired_at are required; "
        "identity, host, state, severity, summary, labels (a JSON object), resolved_at, team, source, "
        "category, note, woke_me_up are optional. Rows already stored are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            with file.open(newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                unknown = set(reader.fieldnames or []) - GENERIC_FIELDS - EXTRA_COLUMNS
                if unknown:
                    raise CommandError(f"Unknown column {', '.join(sorted(unknown))} in {file}.")
                records = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None

        categories = {category.slug: category for category in Category.objects.all()}
        imported = 0
        duplicates: list[int] = []
        refused: list[tuple[int, str]] = []
        batch: list[HistoryRow] = []
        for number, record in enumerate(records, start=2):  # row 1 is the header
            try:
                batch.append(self.row(number, record, categories))
            except BadPayload as error:
                refused.append((number, error.message))
            if len(batch) >= BATCH:
                done, skipped = import_history(rows=batch)
                imported, duplicates, batch = imported + done, duplicates + skipped, []
            self.progress(number - 1, len(records))
        done, skipped = import_history(rows=batch)
        imported, duplicates = imported + done, duplicates + skipped
        if records:
            sys.stderr.write("\n")

        self.stdout.write(
            f"{imported} imported, {len(duplicates)} skipped as duplicates, {len(refused)} refused."
        )
        for number, reason in refused:
            self.stdout.write(f"  row {number}: {reason}")

    def row(self, number: int, record: dict, categories: dict) -> HistoryRow:
        fields = {key: value for key, value in record.items() if key in GENERIC_FIELDS and key != "labels"}
        if (record.get("labels") or "").strip():
            try:
                fields["labels"] = json.loads(record["labels"])
            except ValueError:
                raise BadPayload("labels must be a JSON object.") from None
        incoming = generic_alert(fields)
        slug = (record.get("category") or "").strip()
        if slug and slug not in categories:
            raise BadPayload(f"category {slug} is not one of {', '.join(categories)}.")
        woke = (record.get("woke_me_up") or "").strip().lower()
        if woke not in TRUE | FALSE:
            raise BadPayload(f"woke_me_up {woke!r} must be yes or no.")
        return HistoryRow(
            number=number,
            source=(record.get("source") or "").strip() or "import",
            incoming=incoming,
            category=categories.get(slug),
            note=record.get("note") or "",
            woke_me_up=woke in TRUE,
        )

    def progress(self, done: int, total: int) -> None:
        if not sys.stderr.isatty() and done != total:
            return
        width = 30
        filled = width * done // total if total else width
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
        sys.stderr.flush()
