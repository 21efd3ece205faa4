"""Delete alerts past retention; the monthly reports of their months stay as they were."""

from django.core.management.base import BaseCommand, CommandError

from alerts_review.retention import RetentionTooShort, cutoff, parse_age, prune_alerts


class Command(BaseCommand):
    help = (
        "Delete alerts fired before a calendar month (13m) or day (400d) back from today (UTC), "
        "at least 3 months. The monthly reports of those months keep their figures."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="13m (calendar months) or 400d (days)")

    def handle(self, *args, **options):
        try:
            before = cutoff(*parse_age(options["older_than"]))
        except (ValueError, RetentionTooShort) as error:
            raise CommandError(str(error)) from error
        pruned = prune_alerts(before)
        self.stdout.write(f"Pruned {pruned:,} alerts fired before {before:%Y-%m-%d}.")
