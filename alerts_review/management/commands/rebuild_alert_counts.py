"""Recount the monthly report's counts from the alerts themselves."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from alerts_review.models import ALERT_COUNTS, Alert


class Command(BaseCommand):
    help = (
        "Recount AlertDayCount and AlertQuarterCount from the alerts. Triggers keep them "
        "up to date; this repairs them after the triggers were disabled or the tables edited by hand."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            # Writers wait, so no alert changes between the recount and the commit.
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("LOCK TABLE alerts_review_alert IN SHARE MODE")
            for counts in ALERT_COUNTS:
                counts.rebuild(connection)
            total = Alert.objects.count()
        self.stdout.write(f"Recounted {total:,} alerts.")
