"""Recount the monthly report's counts from the alerts themselves."""

from django.core.management.base import BaseCommand
from django.db import connection

from alerts_review.models import ALERT_COUNTS, ALERT_ROLLUPS, Alert, counts_floor
from morgue.counters import rebuild_all


class Command(BaseCommand):
    help = (
        "Recount AlertDayCount and AlertHourCount (and empty their deltas) from the alerts, "
        "and their monthly rollups from them. "
        "Triggers keep them up to date; this repairs them after the triggers were disabled "
        "or the tables edited by hand."
    )

    def handle(self, *args, **options):
        rebuild_all(connection, *ALERT_COUNTS, *ALERT_ROLLUPS, floor=counts_floor(connection))
        self.stdout.write(f"Recounted {Alert.objects.count():,} alerts.")
