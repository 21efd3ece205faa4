"""Recount the remediation board's kept column counts from the items themselves."""

from django.core.management.base import BaseCommand
from django.db import connection

from incidents.models import RemediationItem
from incidents.models.remediation import REMEDIATION_COUNTS
from morgue.counters import rebuild_all


class Command(BaseCommand):
    help = (
        "Recount RemediationCount from the items. Triggers keep it up to date; this repairs it "
        "after the triggers were disabled or the table edited by hand."
    )

    def handle(self, *args, **options):
        rebuild_all(connection, REMEDIATION_COUNTS)
        self.stdout.write(f"Recounted {RemediationItem.objects.count():,} remediation items.")
